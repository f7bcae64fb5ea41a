using Forge.Experiments.Reports;

namespace Forge.Experiments.Coupling;

/// <summary>
/// The shape of one token's trajectory x⁰, x¹, …, x^L through the residual stream (the coupling paper's
/// linearity and growth claims).
/// <list type="bullet">
/// <item><see cref="LineShapeScore"/>: every step scaled to unit length, x̃^l = x̃^{l−1} + (x^l − x^{l−1})/‖x^l − x^{l−1}‖
/// from x̃⁰ = x⁰; LSS = L / ‖x̃^L − x̃⁰‖ — 1 for a straight line, larger the more the steps turn.</item>
/// <item>Exponential growth [ours, documented in docs/experiments/coupling.md]: the least-squares slope and R² of
/// log‖x^l‖ against l (l = 0 … L) and of log‖x^{l+1} − x^l‖ against l (l = 0 … L−1) — a straight log-line is
/// exponential growth, its slope the log growth rate per layer — and the coefficient of variation of the
/// successive step-length ratios ‖x^{l+2} − x^{l+1}‖ / ‖x^{l+1} − x^l‖ (0 for exactly geometric steps).</item>
/// </list>
/// </summary>
public sealed record TrajectoryShape(double LineShapeScore, double NormSlope, double NormR2, double StepSlope, double StepR2, double StepRatioCv)
{
    /// <summary>The statistics of one trajectory (L + 1 points of equal dimension, L ≥ 1).</summary>
    public static TrajectoryShape Of(IReadOnlyList<double[]> points)
    {
        int layers = points.Count - 1;
        if (layers < 1) throw new ArgumentException("coupling: a trajectory needs at least two points");
        var steps = Enumerable.Range(0, layers).Select(l => Norm(Difference(points[l + 1], points[l]))).ToArray();

        var unit = (double[])points[0].Clone();
        for (int l = 0; l < layers; l++)
        {
            var step = Difference(points[l + 1], points[l]);
            if (steps[l] == 0) continue;   // a block that writes nothing adds no unit step
            for (int i = 0; i < unit.Length; i++) unit[i] += step[i] / steps[l];
        }
        double chord = Norm(Difference(unit, points[0]));
        double lss = chord == 0 ? double.NaN : layers / chord;

        var normFit = Fit(points.Select(p => Math.Log(Norm(p))).ToArray());
        var stepFit = layers >= 2 ? Fit(steps.Select(s => Math.Log(s)).ToArray()) : (Slope: double.NaN, R2: double.NaN);
        var ratios = Enumerable.Range(0, layers - 1).Where(l => steps[l] > 0).Select(l => steps[l + 1] / steps[l]).ToArray();
        double cv = double.NaN;
        if (ratios.Length >= 2)
        {
            double mean = ratios.Average();
            double std = Math.Sqrt(ratios.Sum(r => (r - mean) * (r - mean)) / (ratios.Length - 1));
            cv = std / mean;
        }
        return new TrajectoryShape(lss, normFit.Slope, normFit.R2, stepFit.Slope, stepFit.R2, cv);
    }

    /// <summary>Slope and R² of y against 0, 1, 2, … by least squares (NaN where y is not finite).</summary>
    static (double Slope, double R2) Fit(double[] y)
    {
        if (y.Any(v => !double.IsFinite(v))) return (double.NaN, double.NaN);
        var x = Enumerable.Range(0, y.Length).Select(i => (double)i).ToArray();
        var fit = LinearFit.Of(x, y);
        return (fit.Slope, fit.RSquared);
    }

    static double[] Difference(double[] a, double[] b)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i] - b[i];
        return d;
    }

    static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));
}
