namespace Forge.Experiments.Explain;

/// <summary>
/// The outside check for every backward step: nudge one input entry up and down and watch the loss,
/// ∂L/∂x[n] ≈ (L(x + h·e_n) − L(x − h·e_n)) / 2h, always in float64. The error is O(h²) from the
/// curvature plus O(ε/h) from rounding; h = 1e-5 keeps both near 1e-10 for numbers of size ~1.
/// </summary>
public static class FiniteDifferences
{
    public const double Step = 1e-5;

    /// <summary>The central difference of <paramref name="loss"/> for every entry of <paramref name="at"/> (not modified), with step <paramref name="step"/> (default <see cref="Step"/>).</summary>
    public static double[] Gradient(Func<double[], double> loss, double[] at, double step = Step)
    {
        var point = (double[])at.Clone();
        var gradient = new double[at.Length];
        for (int n = 0; n < at.Length; n++)
        {
            point[n] = at[n] + step;
            double plus = loss(point);
            point[n] = at[n] - step;
            double minus = loss(point);
            point[n] = at[n];
            // A −∞ entry (a masked score) stays −∞ when nudged, so its difference is exactly 0.
            gradient[n] = plus == minus ? 0 : (plus - minus) / (2 * step);
        }
        return gradient;
    }

    /// <summary>Σ a ⊙ b: the loss L = Σ output ⊙ dOutput, whose gradient with respect to output is dOutput.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int n = 0; n < a.Length; n++) sum += a[n] * b[n];
        return sum;
    }
}
