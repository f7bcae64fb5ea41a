namespace Forge.Experiments.Reports;

/// <summary>
/// One row of a report's correlation table: a predictor (the coupling scalar, log(parameters), depth,
/// width, ...) against the outcome (held-out loss) across the trained models. Reading a row: Pearson and R²
/// say how well a straight line does, Spearman whether the relation is monotone at all, the p-values how
/// surprising each would be with no relation, and the bootstrap intervals how much each would move with a
/// different set of models. Intervals are <see cref="Bootstrap.PercentileInterval"/> at one seed, so all
/// three use the same resamples.
/// </summary>
/// <param name="Predictor">The predictor's name as printed.</param>
/// <param name="N">Models with both values finite (the others are dropped).</param>
/// <param name="R2">R² of the least-squares line outcome ~ a + b·predictor (= Pearson²).</param>
/// <param name="Pearson">Pearson's r; <paramref name="PearsonP"/> its two-sided t-test p-value (n − 2 degrees of freedom).</param>
/// <param name="Spearman">Spearman's ρ; <paramref name="SpearmanP"/> its two-sided p-value by the t approximation.</param>
/// <param name="R2Ci">Bootstrap interval of R² (the quantiles of r*², not the square of <paramref name="PearsonCi"/>, which differs when that interval straddles 0).</param>
public sealed record CorrelationRow(
    string Predictor, int N, double R2,
    double Pearson, double PearsonP, (double Lo, double Hi) PearsonCi,
    double Spearman, double SpearmanP, (double Lo, double Hi) SpearmanCi,
    (double Lo, double Hi) R2Ci)
{
    /// <summary>The row for the predictor named <paramref name="predictor"/>, values <paramref name="x"/> (one per model), against <paramref name="outcome"/>.</summary>
    public static CorrelationRow Of(string predictor, IReadOnlyList<double> x, IReadOnlyList<double> outcome,
        int resamples = Bootstrap.DefaultResamples, double level = Bootstrap.DefaultLevel, ulong seed = Bootstrap.DefaultSeed)
    {
        var pearson = Correlation.Pearson(x, outcome);
        var spearman = Correlation.Spearman(x, outcome);
        var line = Correlation.Line(x, outcome);
        (double Lo, double Hi) Interval(Func<IReadOnlyList<double>, IReadOnlyList<double>, double> statistic)
        {
            var interval = Bootstrap.PercentileInterval(x, outcome, statistic, resamples, level, seed);
            return (interval.Lo, interval.Hi);
        }
        // A line through two points always has R² = 1; like r and ρ, call it undefined below 3 models.
        double r2 = pearson.N < 3 ? double.NaN : line.RSquared;
        return new CorrelationRow(predictor, pearson.N, r2,
            pearson.R, pearson.P, Interval((xs, ys) => Correlation.Pearson(xs, ys).R),
            spearman.Rho, spearman.P, Interval((xs, ys) => Correlation.Spearman(xs, ys).Rho),
            Interval((xs, ys) => Correlation.Line(xs, ys).RSquared));
    }
}
