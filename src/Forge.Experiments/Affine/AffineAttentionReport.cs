using System.Globalization;
using Forge.Experiments.Reports;

namespace Forge.Experiments.Affine;

/// <summary>The report section of <see cref="AffineAttention"/>: patterns, the negative-similarity test, the QK sign and the copy summaries.</summary>
public static class AffineAttentionReport
{
    /// <summary>Appends the section (a level-2 heading and what follows) to <paramref name="report"/>.</summary>
    public static ReportBuilder Write(ReportBuilder report, AffineAttentionResult a)
    {
        var f = a.Figures;
        report.Heading("Attention patterns")
            .Paragraph($"Every head (rows of panels: layers 0, 1, …; L{{layer}}H{{head}}) on {a.Sequences} held-out sequences; rows of a pattern are query positions, columns key positions.")
            .Figure(f["attention_mean"], "Mean attention pattern per head")
            .Figure(f["attention_sign_difference"], "Mean pattern on sequences with a < 0 minus a > 0 (red: more attention when a < 0)");
        if (f.TryGetValue("attention_example_a_positive", out var positive))
            report.Figure(positive, $"One test sequence with a = {F(a.ExampleA[0], 2)}");
        if (f.TryGetValue("attention_example_a_negative", out var negative))
            report.Figure(negative, $"One test sequence with a = {F(a.ExampleA[1], 2)}");

        report.Heading("Negative-similarity test")
            .Paragraph("For each head the pre-softmax score s(i→j) (scaled q·k, before the causal softmax) of every query i and earlier key j < i " +
                       "is regressed on three similarities of query and key: x_i·x_j, −|x_i − x_j| and the cosine of the centred residual vectors feeding the layer. " +
                       "The self pair j = i is left out (there −|x_i − x_j| = 0 and the cosine = 1 in every sequence, so it measures self-attention, not similarity). " +
                       "Position effects are removed first: score and similarity are centred within each (sequence, query) row — softmax ignores what is added to a whole row — " +
                       "and then per (query, key) cell across sequences, so the slope only says how the score moves with the similarity at fixed positions. " +
                       $"The {SimilarityRegression.ConfidenceLevel:P0} CI uses the cluster-robust standard error with sequences as clusters (pairs of one sequence are not independent), with t on G − 1 degrees of freedom. " +
                       $"**Rule** [ours]: a head is negative-similarity when the slopes on both input-space measures (x_i·x_j and −|x_i − x_j|) have CIs below 0 " +
                       $"and at least one of them has within R² ≥ {NegativeSimilarityRule.MinRSquared} (with thousands of sequences a negligible slope is significant too); " +
                       "positive-similarity mirrors it; mixed when one is clearly negative and the other significantly positive or the reverse. " +
                       "The residual cosine does not vote: past layer 0 the residual holds far more than the current value, and unlike the input-space measures it is not even " +
                       "under the flip x → −x (which leaves the task unchanged when the ranges of b and x_0 are symmetric, as by default), so a plain preference for large key values can move it. In the table (−)/(+) marks a CI that excludes 0 with R² ≥ the bar.")
            .Table(["head", .. Enum.GetValues<SimilarityMeasure>().Select(m => $"{AffineAttention.Label(m)}: slope [95 % CI], R²"), "verdict"],
                a.Heads.Select(h => (IReadOnlyList<object?>)[h.Name, .. h.Similarity.Select(Cell), Verdict(h.Verdict)]))
            .Figure(f["similarity"], "Within correlation of score and similarity per head and measure")
            .Paragraph(Summary(a));

        report.Heading("Token–token QK sign and copy-like summaries")
            .Paragraph("QK token scalar c = W_E·W_Q·W_Kᵀ·W_Eᵀ/√d_head with LayerNorm folded (ln1's scale into W_Q, W_K; W_E centred, as LayerNorm's mean subtraction does): " +
                       "under the linear read-in the score contains x_i·x_j·c/(σ_i·σ_j), σ being LayerNorm's positive per-token norm, which folding leaves out. " +
                       "Exact for layer 0; for later layers the residual holds much more than x·W_E, so there it is only the direct-path diagnostic. " +
                       "Attention i → i and i → i−1: mean pattern weight over queries i ≥ 1. Direct output: hook_result through the final LayerNorm's scale and W_U; " +
                       "its correlation with x_i (high for a copy head) and with the correction x_{i+1} − x_i = a·(x_i − x_{i−1}) that refines the copy, each centred per position.")
            .Table(["head", "QK token scalar", "attention i → i", "attention i → i−1", "corr(direct output, x_i)", "corr(direct output, x_{i+1} − x_i)", "std of direct output"],
                a.Heads.Select(h => (IReadOnlyList<object?>)[h.Name, E(h.QkTokenScalar), F(h.AttentionToCurrent, 3), F(h.AttentionToPrevious, 3),
                    F(h.OutputCorrelationWithCurrent, 3), F(h.OutputCorrelationWithCorrection, 3), E(h.OutputStd)]))
            .Figure(f["copy"], "Copy-like summaries per head");
        return report;
    }

    static string Summary(AffineAttentionResult a)
    {
        var negative = a.NegativeSimilarityHeads;
        var layer0 = a.Heads.Where(h => h.Layer == 0 && double.IsFinite(h[SimilarityMeasure.Product].Slope)).ToList();
        int agree = layer0.Count(h => Math.Sign(h.QkTokenScalar) == Math.Sign(h[SimilarityMeasure.Product].Slope));
        var ratios = a.Heads.SelectMany(h => h.Similarity).Where(e => e.NaiveStdError > 0).Select(e => e.StdError / e.NaiveStdError).Order().ToList();
        string design = ratios.Count == 0 ? "" : $" The cluster-robust standard errors are a median {F(ratios[ratios.Count / 2], 1)}× the i.i.d. ones.";
        return (negative.Count == 0 ? "No head is negative-similarity by this rule." : $"Negative-similarity heads by this rule: {string.Join(", ", negative)}.") +
               $" In layer 0 the sign of the QK token scalar matches the sign of the x_i·x_j slope for {agree} of {layer0.Count} heads." + design;
    }

    static string Cell(SlopeEstimate e) => double.IsFinite(e.Slope)
        ? $"{G(e.Slope)} [{G(e.CiLow)}, {G(e.CiHigh)}], {F(e.RSquared, 3)}" + (NegativeSimilarityRule.ClearlyNegative(e) ? " (−)" : NegativeSimilarityRule.ClearlyPositive(e) ? " (+)" : "")
        : "–";

    static string Verdict(SimilarityVerdict v) => v == SimilarityVerdict.NegativeSimilarity ? "**" + NegativeSimilarityRule.Text(v) + "**" : NegativeSimilarityRule.Text(v);

    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
    static string E(double v) => double.IsFinite(v) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : "–";
    static string G(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
