namespace Forge.Tests.Kernels;

/// <summary>
/// Central finite differences in float64, the outside reference for backward kernels: for a scalar
/// function f (usually Σ forward(x) ⊙ r with random r, whose gradient is backward(dy = r)),
/// ∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / 2h, error O(h²).
/// </summary>
internal static class FiniteDifference
{
    /// <summary>The central differences of <paramref name="f"/> at <paramref name="x"/> (the one implementation, which the <c>explain</c> walkthrough prints too).</summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double h = 1e-5) => Forge.Experiments.Explain.FiniteDifferences.Gradient(f, x, h);

    /// <summary>Σ a ⊙ b, the scalar whose gradient with respect to a is b.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Forge.Experiments.Explain.FiniteDifferences.Dot(a, b);

    /// <summary>Asserts an analytic gradient matches a numerical one to ~1e-6 relative (h = 1e-5, float64).</summary>
    public static void AssertMatches(ReadOnlySpan<double> numerical, ReadOnlySpan<double> analytic, string what, double tolerance = 1e-6)
    {
        Assert.That(analytic.Length, Is.EqualTo(numerical.Length), $"{what}: length");
        for (int i = 0; i < numerical.Length; i++)
        {
            double error = Math.Abs(numerical[i] - analytic[i]), allowed = tolerance * Math.Max(1, Math.Abs(numerical[i]));
            if (!(error <= allowed))
                Assert.Fail($"{what}[{i}]: finite difference {numerical[i]:R}, backward {analytic[i]:R} (error {error:G3})");
        }
    }
}
