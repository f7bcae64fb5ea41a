using System.Numerics;
using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.LinearBackward{T}"/> — a linear layer's dX and dW, fused into one pass over the rows where
/// the weight gradient is split along k — against the two separate <see cref="Gemm.Run{T}"/> calls it
/// replaces, bit for bit: row counts on and off the 1,024-row chunks, small products run side by side on two
/// threads (<see cref="GemmLinearBackward.RunsSideBySide{T}"/>), a transposed weight, overwrite
/// (stale NaN never read) and accumulate for each gradient, one and two threads, shapes that do not fuse,
/// and either gradient alone. Plus a check against <see cref="GemmReference"/> so both sides are right.
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class GemmLinearBackwardTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // m, k, n: fused (k·n ≤ 2^16, m ≥ 2048) with ragged last chunks and edge tiles, then shapes that are not.
    static readonly int[][] Shapes =
    [
        [2048, 96, 96], [2500, 33, 7], [3077, 128, 52], [2048, 512, 128], [4100, 1, 45],
        [1000, 96, 96],    // too few rows to split: side by side on two threads
        [1408, 64, 64],    // retrieval's projections: side by side on two threads
        [37, 5, 3],        // tiny: side by side
        [2048, 300, 300],  // W too large to split, too large for side by side
    ];

    [Test]
    public void EqualsTheTwoSeparateGemms([ValueSource(nameof(Shapes))] int[] mkn, [Values] bool transW,
        [Values] bool accumulate, [Values(1, 2)] int threads)
    {
        int m = mkn[0], k = mkn[1], n = mkn[2];
        LinearBackwardCheck.EqualsTheDenseGemms(m, k, n, Uniform.Values<T>(m * n, seed: 1), Uniform.Values<T>(m * k, seed: 2),
            Uniform.Values<T>(k * n, seed: 3), transW, accumulate, threads);
    }

    [Test]
    public void MatchesTheReference()
    {
        const int m = 2500, k = 33, n = 7;
        var dy = Uniform.Values<T>(m * n, seed: 6);
        var x = Uniform.Values<T>(m * k, seed: 7);
        var w = Uniform.Values<T>(k * n, seed: 8);
        var (dx, dw) = (new T[m * k], new T[k * n]);
        Gemm.LinearBackward<T>(m, k, n, dy, x, w, false, n, dx, T.Zero, dw, T.Zero);
        var (refDx, refDw) = (new T[m * k], new T[k * n]);
        GemmReference.Run(false, true, m, k, n, T.One, dy, n, w, n, T.Zero, refDx, k);
        GemmReference.Run(true, false, k, n, m, T.One, x, k, dy, n, T.Zero, refDw, n);
        double tolerance = typeof(T) == typeof(float) ? 1e-4 : 1e-11;
        for (int i = 0; i < dx.Length; i++)
            Assert.That(double.CreateChecked(dx[i]), Is.EqualTo(double.CreateChecked(refDx[i])).Within(tolerance), $"dX[{i}]");
        for (int i = 0; i < dw.Length; i++)
            Assert.That(double.CreateChecked(dw[i]), Is.EqualTo(double.CreateChecked(refDw[i])).Within(tolerance * Math.Sqrt(m)), $"dW[{i}]");
    }

    [Test]
    public void EitherGradientAlone_LeavesTheOtherUntouched()
    {
        const int m = 2048, k = 16, n = 8;
        var dy = Uniform.Values<T>(m * n, seed: 9);
        var x = Uniform.Values<T>(m * k, seed: 10);
        var w = Uniform.Values<T>(k * n, seed: 11);
        var dx = new T[m * k];
        Gemm.LinearBackward<T>(m, k, n, dy, x, w, false, n, dx, T.Zero, default, T.Zero);
        var expectedDx = new T[m * k];
        Gemm.Run(false, true, m, k, n, T.One, dy, n, w, n, T.Zero, expectedDx, k);
        Assert.That(dx, Is.EqualTo(expectedDx).AsCollection, "dX alone");

        var dw = new T[k * n];
        Gemm.LinearBackward<T>(m, k, n, dy, x, w, false, n, default, T.Zero, dw, T.Zero);
        var expectedDw = new T[k * n];
        Gemm.Run(true, false, k, n, m, T.One, x, k, dy, n, T.Zero, expectedDw, n);
        Assert.That(dw, Is.EqualTo(expectedDw).AsCollection, "dW alone");
    }

    [Test]
    public void ShortGradient_ThrowsNamingTheOperand()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.LinearBackward<T>(2048, 4, 4, new T[2048 * 4], new T[2048 * 4], new T[16], false, 4, new T[100], T.Zero, new T[16], T.Zero));
        Assert.That(e!.Message, Does.Contain("c"));
    }
}
