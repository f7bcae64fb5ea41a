namespace Forge.Experiments.Affine;

/// <summary>
/// Does a head's pre-softmax score s(i→j) rise or fall with the similarity of query i and key j? One
/// slope per head and similarity measure, from the pairs 0 ≤ j &lt; i of every test sequence
/// (<see cref="QueryKeyPairs"/> layout), with the position effects taken out:
/// <list type="number">
/// <item><b>Query-row effects.</b> Within each (sequence, query i) row the score and the similarity are
/// centred over the keys j &lt; i. Softmax ignores anything added to a whole row, so whatever depends on
/// the query alone — its position, its own value x_i (e.g. q_i·b_K) — must not count as a slope; a
/// query with a single key (i = 1) carries no information after this step.</item>
/// <item><b>(query, key)-cell effects.</b> The row-centred values are then centred per (i, j) cell over
/// the sequences: what remains is how the score varies with the similarity across sequences at fixed
/// positions, so the strong position dependence of scores (and of residual cosines, which share the
/// positional embedding) cannot create a slope. For a fixed query position the rows are a balanced
/// sequences × keys table, so the two steps together are the exact two-way fixed-effects transform.</item>
/// <item><b>OLS</b> of the transformed score on the transformed similarity, without intercept (both have
/// mean 0): slope = Σx̃ỹ / Σx̃², within R² = 1 − Σe²/Σỹ².</item>
/// <item><b>Confidence interval.</b> The pairs of one sequence are not independent (they share its a, b,
/// terms and residual stream), so the standard error is the cluster-robust (Liang–Zeger, CR1) one with
/// sequences as clusters: Var = G/(G−1)·Σ_s u_s² / (Σx̃²)², u_s = Σ_(pairs of s) x̃·e — the spread of the
/// per-sequence contributions between sequences. The 95 % CI is slope ± t_{0.975, G−1}·SE. The i.i.d.
/// OLS error is reported beside it for comparison.</item>
/// </list>
/// </summary>
public static class SimilarityRegression
{
    /// <summary>Two-sided confidence level of <see cref="SlopeEstimate.CiLow"/>/<see cref="SlopeEstimate.CiHigh"/>.</summary>
    public const double ConfidenceLevel = 0.95;

    /// <param name="scores">Pre-softmax scores in pair layout [sequences, pairs].</param>
    /// <param name="similarity">The similarity of each pair, same layout.</param>
    public static SlopeEstimate Fit(ReadOnlySpan<double> scores, ReadOnlySpan<double> similarity, int sequences, int positions)
    {
        int pairs = QueryKeyPairs.Count(positions);
        if (scores.Length != sequences * pairs || similarity.Length != sequences * pairs)
            throw new ArgumentException($"SimilarityRegression.Fit: expected {sequences} × {pairs} pairs, got {scores.Length} scores and {similarity.Length} similarities");
        long informative = (long)sequences * (pairs - (positions - 1));   // rows of a single key (i = 1) drop out
        if (sequences < 2 || informative == 0) return SlopeEstimate.Undefined(sequences, informative);

        var y = RowCentred(scores, sequences, positions);
        var x = RowCentred(similarity, sequences, positions);
        CentreCells(y, sequences, pairs);
        CentreCells(x, sequences, pairs);

        double sxx = 0, sxy = 0, syy = 0;
        for (int k = 0; k < x.Length; k++) { sxx += x[k] * x[k]; sxy += x[k] * y[k]; syy += y[k] * y[k]; }
        if (!(sxx > 0)) return SlopeEstimate.Undefined(sequences, informative);
        double slope = sxy / sxx;

        double residualSquares = 0, clusterSquares = 0;
        for (int s = 0; s < sequences; s++)
        {
            double score = 0;   // u_s = Σ x̃·e over the sequence's pairs
            for (int k = s * pairs; k < (s + 1) * pairs; k++)
            {
                double e = y[k] - slope * x[k];
                residualSquares += e * e;
                score += x[k] * e;
            }
            clusterSquares += score * score;
        }
        double clusterVariance = sequences / (sequences - 1.0) * clusterSquares / (sxx * sxx);
        // i.i.d. degrees of freedom: for query i, (G − 1)(i − 1) after G row and i cell effects; minus the slope.
        double freedom = (sequences - 1.0) * (positions - 1) * (positions - 2) / 2 - 1;
        double naiveVariance = freedom > 0 ? residualSquares / freedom / sxx : double.NaN;
        double halfWidth = StudentT.Quantile(0.5 + ConfidenceLevel / 2, sequences - 1) * Math.Sqrt(clusterVariance);
        double rSquared = syy > 0 ? 1 - residualSquares / syy : double.NaN;
        return new SlopeEstimate(slope, Math.Sqrt(clusterVariance), Math.Sqrt(naiveVariance), slope - halfWidth, slope + halfWidth,
            rSquared, sequences, informative);
    }

    /// <summary>Each (sequence, query) row centred over its keys j &lt; i.</summary>
    static double[] RowCentred(ReadOnlySpan<double> values, int sequences, int positions)
    {
        int pairs = QueryKeyPairs.Count(positions);
        var result = new double[values.Length];
        for (int s = 0; s < sequences; s++)
            for (int i = 1; i < positions; i++)
            {
                int start = s * pairs + QueryKeyPairs.Index(i, 0);
                double mean = 0;
                for (int j = 0; j < i; j++) mean += values[start + j];
                mean /= i;
                for (int j = 0; j < i; j++) result[start + j] = values[start + j] - mean;
            }
        return result;
    }

    /// <summary>Each pair (cell) centred over the sequences.</summary>
    static void CentreCells(double[] values, int sequences, int pairs)
    {
        var mean = new double[pairs];
        for (int s = 0; s < sequences; s++)
            for (int p = 0; p < pairs; p++) mean[p] += values[s * pairs + p];
        for (int p = 0; p < pairs; p++) mean[p] /= sequences;
        for (int s = 0; s < sequences; s++)
            for (int p = 0; p < pairs; p++) values[s * pairs + p] -= mean[p];
    }
}
