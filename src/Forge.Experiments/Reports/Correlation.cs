using TDistribution = MathNet.Numerics.Distributions.StudentT;

namespace Forge.Experiments.Reports;

/// <summary>
/// How strongly one per-model quantity goes with another across a set of trained models (e.g. the
/// coupling scalar against held-out loss over 20–40 models), with the p-values a report prints beside them.
/// <para>
/// NaN-safe: every function here first drops the models where any of its inputs is NaN or infinite
/// (pairwise deletion) and reports the number of complete models it used as N. Lengths must agree
/// (<see cref="ArgumentException"/> otherwise). A statistic that is undefined — fewer than 3 complete
/// models, or a side that does not vary — is NaN, never an exception, so one bad predictor cannot stop a report.
/// </para>
/// </summary>
public static class Correlation
{
    /// <summary>
    /// Pearson's r, the strength of the <em>linear</em> relation:
    /// r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² · Σ(y−ȳ)²), in [−1, 1]; r² is the fraction of y's variance that the
    /// least-squares line on x explains (see <see cref="Line"/>). Computed through that line (reuses
    /// <see cref="LinearFit"/>: r = sign(slope)·√R²). P is the two-sided p-value of <see cref="PValue"/>
    /// with n − 2 degrees of freedom: how often data with no correlation at all would give an |r| this
    /// large. It assumes roughly normal scatter; one outlying model can move r a lot at n = 20, which is
    /// why a report shows <see cref="Spearman"/> and a bootstrap interval beside it.
    /// </summary>
    public static (double R, double P, int N) Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (xs, ys) = CompletePairs(x, y, "Correlation.Pearson");
        double r = PearsonOfComplete(xs, ys);
        return (r, PValue(r, xs.Length), xs.Length);
    }

    /// <summary>
    /// Spearman's ρ, the strength of the <em>monotone</em> relation: Pearson's r of the ranks (ties get
    /// their average rank; <see cref="SweepStats.Spearman"/>). ρ = 1 whenever y only ever grows with x,
    /// however curved (loss against parameter count is a power law, not a line), and an outlier moves
    /// it by at most one rank.
    /// <para>
    /// P uses the same t statistic as Pearson, t = ρ√((n−2)/(1−ρ²)) with n − 2 degrees of freedom. That
    /// is an approximation: the exact null distribution of ρ is that of all n! orderings. It is close for
    /// n ≳ 10 (a report's 20–40 models) and rough below; ties make it slightly conservative.
    /// </para>
    /// </summary>
    public static (double Rho, double P, int N) Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (xs, ys) = CompletePairs(x, y, "Correlation.Spearman");
        double rho = SweepStats.Spearman(xs, ys);
        return (rho, PValue(rho, xs.Length), xs.Length);
    }

    /// <summary>
    /// The least-squares line y ≈ Intercept + Slope·x over the complete pairs: Slope = Σ(x−x̄)(y−ȳ)/Σ(x−x̄)²,
    /// Intercept = ȳ − Slope·x̄, and R² = 1 − SS_res/SS_tot, the fraction of y's variance the line explains
    /// (for one regressor exactly r²). Slope is NaN when x is constant, R² when either side is.
    /// </summary>
    public static LinearFit Line(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (xs, ys) = CompletePairs(x, y, "Correlation.Line");
        return LinearFit.Of(xs, ys);
    }

    /// <summary>
    /// The two-sided p-value of a correlation coefficient r from n models, after removing the linear
    /// effect of <paramref name="covariates"/> covariates (0 for Pearson and Spearman).
    /// <para>
    /// Under "no correlation" (and normal scatter) t = r·√(df/(1−r²)) follows Student's t with
    /// df = n − 2 − covariates degrees of freedom: two for the fitted intercept and slope, one more for
    /// each covariate regressed out. p = P(|T| ≥ |t|) = 2·F_df(−|t|). Exact ends: r = 0 gives p = 1, |r| = 1 gives
    /// p = 0 (t is infinite). NaN when r is NaN or df &lt; 1. 1 − r² is formed as (1 − |r|)(1 + |r|), which keeps
    /// its digits when |r| is near 1.
    /// </para>
    /// </summary>
    public static double PValue(double r, int n, int covariates = 0)
    {
        int freedom = n - 2 - covariates;
        if (double.IsNaN(r) || freedom < 1) return double.NaN;
        double size = Math.Abs(r);
        if (size == 0) return 1;
        if (size >= 1) return 0;
        double t = size * Math.Sqrt(freedom / ((1 - size) * (1 + size)));
        // The lower tail at −|t| rather than 1 − F(|t|): no cancellation when p is tiny.
        return Math.Min(1, 2 * TDistribution.CDF(0, 1, freedom, -t));
    }

    /// <summary>
    /// The partial correlation of x and y given the covariates z₁..z_k: the correlation that is left once
    /// both have been cleared of everything a linear function of the covariates explains. E.g. does the
    /// coupling scalar still predict loss among models of the same log(parameters), depth and width?
    /// <para>
    /// Residualise: e_x = x − x̂ and e_y = y − ŷ, each the residual of a least-squares fit on [1, z₁..z_k]
    /// (<see cref="LeastSquares.Residuals"/>); the partial correlation is Pearson's r of e_x and e_y. It
    /// equals the t test of x's coefficient in the multiple regression y ~ 1 + x + z (Frisch–Waugh–Lovell),
    /// hence P from <see cref="PValue"/> with df = n − 2 − k. With no covariates it is Pearson's r.
    /// </para>
    /// NaN when fewer than k + 3 complete models remain, when the covariates are linearly dependent,
    /// or when x or y is (to 10⁻¹⁰ relative) a linear function of them — nothing is left to correlate.
    /// </summary>
    /// <param name="covariates">k columns, each with one value per model (same length as x).</param>
    public static (double R, double P, int N) Partial(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<IReadOnlyList<double>> covariates)
    {
        CheckLengths(x, y, "Correlation.Partial");
        for (int c = 0; c < covariates.Count; c++)
            if (covariates[c].Count != x.Count)
                throw new ArgumentException($"Correlation.Partial: covariate {c} has {covariates[c].Count} values, x has {x.Count}.");
        int k = covariates.Count;
        var rows = Enumerable.Range(0, x.Count)
            .Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i]) && covariates.All(z => double.IsFinite(z[i])))
            .ToArray();
        int n = rows.Length;
        if (n < k + 3) return (double.NaN, double.NaN, n);
        double[] Pick(IReadOnlyList<double> column) => rows.Select(i => column[i]).ToArray();
        var z = covariates.Select(Pick).ToArray();
        var xs = Pick(x);
        var ys = Pick(y);
        var residualX = LeastSquares.Residuals(xs, z);
        var residualY = LeastSquares.Residuals(ys, z);
        if (residualX is null || residualY is null || FullyExplained(xs, residualX) || FullyExplained(ys, residualY))
            return (double.NaN, double.NaN, n);
        double r = PearsonOfComplete(residualX, residualY);
        return (r, PValue(r, n, k), n);
    }

    /// <summary>True when the residual is rounding noise: ‖residual‖ ≤ 10⁻¹⁰·‖values − mean‖ (or the values are constant).</summary>
    static bool FullyExplained(double[] values, double[] residual)
    {
        double mean = values.Average(), spread = 0, left = 0;
        for (int i = 0; i < values.Length; i++)
        {
            spread += (values[i] - mean) * (values[i] - mean);
            left += residual[i] * residual[i];
        }
        return !(left > 1e-20 * spread);
    }

    /// <summary>Pearson's r of complete pairs; NaN for fewer than 3 pairs or a constant side.</summary>
    static double PearsonOfComplete(double[] x, double[] y)
    {
        if (x.Length < 3) return double.NaN;
        var fit = LinearFit.Of(x, y);
        // R² is NaN exactly when a side is constant; test it first (LinearFit.Correlation takes the sign of a NaN slope).
        return double.IsNaN(fit.RSquared) ? double.NaN : fit.Correlation;
    }

    /// <summary>
    /// The pairs (x[i], y[i]) where both are finite, as two arrays; throws when the lengths differ.
    /// <paramref name="caller"/> names the public function in the message.
    /// </summary>
    internal static (double[] X, double[] Y) CompletePairs(IReadOnlyList<double> x, IReadOnlyList<double> y, string caller)
    {
        CheckLengths(x, y, caller);
        var xs = new List<double>(x.Count);
        var ys = new List<double>(y.Count);
        for (int i = 0; i < x.Count; i++)
        {
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i])) continue;
            xs.Add(x[i]);
            ys.Add(y[i]);
        }
        return (xs.ToArray(), ys.ToArray());
    }

    static void CheckLengths(IReadOnlyList<double> x, IReadOnlyList<double> y, string caller)
    {
        if (x.Count != y.Count)
            throw new ArgumentException($"{caller}: x has {x.Count} values and y has {y.Count}; they must pair up one per model.");
    }
}
