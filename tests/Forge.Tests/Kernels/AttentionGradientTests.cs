using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// The attention backward pass against float64 central finite differences of
/// L(q, k, v) = Σ z ⊙ R for a fixed random R (so ∂L/∂z = R).
/// </summary>
public class AttentionGradientTests
{
    const double Step = 1e-5;

    [TestCase(true, 2, 5, 2, 3)]
    [TestCase(true, 1, 7, 3, 7)]    // dHead 7: one double vector plus a scalar tail
    [TestCase(true, 1, 1, 1, 1)]    // t = 1: the softmax is constant, so dq = dk = 0
    [TestCase(false, 2, 5, 2, 3)]
    [TestCase(false, 1, 7, 3, 7)]
    public void Backward_MatchesFiniteDifferences(bool fast, int batch, int t, int heads, int dHead)
    {
        var data = new AttentionTestData<double>(batch, t, heads, dHead, seed: 11);
        double[] weights = data.DZ;                  // R; the backward pass gets dz = ∂L/∂z = R
        data.RunForward(fast);
        data.ZeroGradients();
        data.RunBackward(fast);

        AssertMatchesFiniteDifferences(data, data.Q, data.DQ, weights, fast, "dq");
        AssertMatchesFiniteDifferences(data, data.K, data.DK, weights, fast, "dk");
        AssertMatchesFiniteDifferences(data, data.V, data.DV, weights, fast, "dv");
    }

    /// <summary>
    /// Nudges each entry of <paramref name="input"/> by ±Step and compares (L₊ − L₋)/(2·Step) with
    /// <paramref name="gradient"/>. The error is measured relative to the largest gradient entry, so
    /// entries that are (nearly) zero, like dq at t = 1, are judged on the tensor's scale.
    /// </summary>
    static void AssertMatchesFiniteDifferences(AttentionTestData<double> data, double[] input, double[] gradient,
        double[] weights, bool fast, string name)
    {
        double maxError = 0, maxGradient = 0;
        for (int n = 0; n < input.Length; n++)
        {
            double saved = input[n];
            input[n] = saved + Step;
            double lossPlus = Loss(data, weights, fast);
            input[n] = saved - Step;
            double lossMinus = Loss(data, weights, fast);
            input[n] = saved;

            double numeric = (lossPlus - lossMinus) / (2 * Step);
            maxError = Math.Max(maxError, Math.Abs(numeric - gradient[n]));
            maxGradient = Math.Max(maxGradient, Math.Abs(numeric));
        }
        double relativeError = maxError / Math.Max(maxGradient, 1e-12);
        if (maxGradient == 0) relativeError = maxError;   // all-zero gradient (t = 1 for dq, dk): compare absolutely
        TestContext.Out.WriteLine($"{name}: max |analytic − numeric| = {maxError:g3}, max |gradient| = {maxGradient:g3}");
        Assert.That(relativeError, Is.LessThanOrEqualTo(1e-6), name);
    }

    /// <summary>L = Σ z ⊙ R after a forward pass on the current inputs.</summary>
    static double Loss(AttentionTestData<double> data, double[] weights, bool fast)
    {
        data.RunForward(fast);
        double loss = 0;
        for (int n = 0; n < data.Z.Length; n++) loss += data.Z[n] * weights[n];
        return loss;
    }
}
