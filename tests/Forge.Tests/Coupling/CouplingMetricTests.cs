using Forge.Experiments.Coupling;

namespace Forge.Tests.Coupling;

/// <summary>m_K, the coupling matrix and its scalar on matrices whose singular bases are chosen by hand, so the answers are known.</summary>
public class CouplingMetricTests
{
    /// <summary>A random orthogonal d × d matrix (Gram–Schmidt on Gaussian columns).</summary>
    static double[,] Orthogonal(int d, Rng rng)
    {
        var q = new double[d, d];
        for (int c = 0; c < d; c++)
        {
            var v = Enumerable.Range(0, d).Select(_ => rng.NextNormal()).ToArray();
            for (int prev = 0; prev < c; prev++)
            {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += v[i] * q[i, prev];
                for (int i = 0; i < d; i++) v[i] -= dot * q[i, prev];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            for (int i = 0; i < d; i++) q[i, c] = v[i] / norm;
        }
        return q;
    }

    /// <summary>U·diag(s)·Vᵀ.</summary>
    static double[,] Compose(double[,] u, double[] s, double[,] v)
    {
        int d = s.Length;
        var m = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) m[i, j] += u[i, k] * s[k] * v[j, k];
        return m;
    }

    static double[,] SwapColumns(double[,] m, int a, int b)
    {
        var r = (double[,])m.Clone();
        for (int i = 0; i < m.GetLength(0); i++) (r[i, a], r[i, b]) = (m[i, b], m[i, a]);
        return r;
    }

    static double[,] NegateColumn(double[,] m, int c)
    {
        var r = (double[,])m.Clone();
        for (int i = 0; i < m.GetLength(0); i++) r[i, c] = -m[i, c];
        return r;
    }

    readonly double[,] _u = Orthogonal(6, new Rng(1)), _v = Orthogonal(6, new Rng(2));
    readonly double[] _s = [5, 3, 2, 1, 0.5, 0.25];

    [Test]
    public void SharedSingularVectorsAreFullyCoupledWhateverTheSingularValuesOrSigns()
    {
        var j1 = new JacobianSvd(Compose(_u, _s, _v));
        // Same singular vectors (one pair with flipped sign), other singular values in the same order.
        var j2 = new JacobianSvd(Compose(NegateColumn(_u, 1), [9, 4, 3, 2, 1, 0.1], NegateColumn(_v, 1)));
        foreach (int k in new[] { 1, 3, 6 })
        {
            Assert.That(CouplingMetric.M(j1, j1, k), Is.EqualTo(0).Within(1e-12));
            Assert.That(CouplingMetric.M(j1, j2, k), Is.EqualTo(0).Within(1e-12));
            Assert.That(CouplingMetric.M(j2, j1, k), Is.EqualTo(0).Within(1e-12));
        }
        Assert.That(j1.S, Is.EqualTo(_s).Within(1e-12), "singular values descending, as composed");
    }

    [Test]
    public void SwappedTopPairGivesTheHandComputedValue()
    {
        // J₂'s first two singular directions are J₁'s second and first: U₂,₂ᵀ J₁ V₂,₂ = diag(s₂, s₁), so
        // m₂ = ‖diag(s₂ − s₁, s₁ − s₂)‖_F / ‖(s₁, s₂)‖ = √2·(5 − 3)/√34; with the Σσ norm: √2·2/8.
        var j1 = new JacobianSvd(Compose(_u, _s, _v));
        var j2 = new JacobianSvd(Compose(SwapColumns(_u, 0, 1), [9, 4, 3, 2, 1, 0.1], SwapColumns(_v, 0, 1)));
        Assert.That(CouplingMetric.M(j1, j2, 2), Is.EqualTo(Math.Sqrt(2) * 2 / Math.Sqrt(34)).Within(1e-12));
        Assert.That(CouplingMetric.M(j1, j2, 2, CouplingNorm.Sum), Is.EqualTo(Math.Sqrt(2) * 2 / 8).Within(1e-12));
        // K = 1: |u₂ᵀ J₁ v₂| = s₂ = 3 against s₁ = 5.
        Assert.That(CouplingMetric.M(j1, j2, 1), Is.EqualTo(2.0 / 5).Within(1e-12));
    }

    [Test]
    public void UnrelatedRandomMatricesAreFarFromCoupled()
    {
        // Independent Gaussian matrices share no singular basis: |U₂ᵀ J₁ V₂| is spread over the whole K × K block.
        var baseline = CouplingMeasurement.RandomBaseline(d: 64, layers: 3, ks: [10], repeats: 2, new Rng(3));
        var c = baseline[10];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                if (i != j) Assert.That(c[i, j], Is.InRange(0.8, 1.6));
        Assert.That(CouplingMetric.Scalar(c), Is.LessThan(0.2));
    }

    [Test]
    public void MatrixHasZeroDiagonalAndTheScalarAveragesOneMinusTheOffDiagonal()
    {
        var svds = new[] { new JacobianSvd(Compose(_u, _s, _v)), new JacobianSvd(Compose(SwapColumns(_u, 0, 1), _s, SwapColumns(_v, 0, 1))) };
        var c = CouplingMetric.Matrix(svds, 1);
        Assert.That(c[0, 0], Is.EqualTo(0));
        Assert.That(c[1, 1], Is.EqualTo(0));
        Assert.That(c[0, 1], Is.EqualTo(2.0 / 5).Within(1e-12));   // |u₂ᵀJ₁v₂| = 3 vs 5
        Assert.That(c[1, 0], Is.EqualTo(2.0 / 5).Within(1e-12));   // symmetric here: both see the other's σ = 3 vs their own 5
        Assert.That(CouplingMetric.Scalar(c), Is.EqualTo(1 - 2.0 / 5).Within(1e-12));
    }

    [Test]
    public void KOutsideOneToDIsRefused()
    {
        var j = new JacobianSvd(Compose(_u, _s, _v));
        Assert.Throws<ArgumentException>(() => CouplingMetric.M(j, j, 0));
        Assert.Throws<ArgumentException>(() => CouplingMetric.M(j, j, 7));
    }
}
