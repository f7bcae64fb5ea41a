using System.Text.Json.Nodes;
using Forge.Experiments.Reports;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>One head of the studied layer: where it looks, what ablating it costs, and how much of that its direct path explains.</summary>
/// <param name="AttentionToCurrent">Mean attention from query position n to key n (queries n ≥ <see cref="AffineTokens.FirstDeterminedPosition"/>).</param>
/// <param name="AttentionToPrevious">Mean attention from n to n − 1.</param>
/// <param name="ZeroTowardCopyLast">Zero-ablation's move of the error toward copy-last (all sequences; see <see cref="InterventionGroup"/>).</param>
/// <param name="DirectShare">Removal of the head's direct contribution alone, ΔMSE, over its zero-ablation ΔMSE: near 1 when the head acts on the prediction directly, near 0 when through later layers, above 1 when later layers make up part of the loss of the head (they see it removed; the direct removal leaves them as they were).</param>
public sealed record LayerOneHead(string Name, int Head, double AttentionToCurrent, double AttentionToPrevious, double ZeroDeltaMse, double ZeroTowardCopyLast,
    double ZeroTowardCopyLastPositiveA, double ZeroTowardCopyLastNegativeA, double MeanTowardCopyLast, double DirectRemovalDeltaMse, double DirectShare,
    double CorrelationCorrection)
{
    public JsonObject ToJson() => new()
    {
        ["head"] = Head,
        ["attention_to_current"] = AffineFormat.Number(AttentionToCurrent), ["attention_to_previous"] = AffineFormat.Number(AttentionToPrevious),
        ["zero_delta_mse"] = AffineFormat.Number(ZeroDeltaMse), ["zero_toward_copy_last"] = AffineFormat.Number(ZeroTowardCopyLast),
        ["zero_toward_copy_last_a_pos"] = AffineFormat.Number(ZeroTowardCopyLastPositiveA), ["zero_toward_copy_last_a_neg"] = AffineFormat.Number(ZeroTowardCopyLastNegativeA),
        ["mean_toward_copy_last"] = AffineFormat.Number(MeanTowardCopyLast),
        ["direct_removal_delta_mse"] = AffineFormat.Number(DirectRemovalDeltaMse), ["direct_share"] = AffineFormat.Number(DirectShare),
        ["corr_correction"] = AffineFormat.Number(CorrelationCorrection),
    };
}

/// <summary>
/// What the studied layer (layer 1 by default) does: its lens step (lens MSE to x_{n+1} and R² before, after
/// its attention and after the layer; its share of the whole drop of log lens MSE from the embedding to
/// the output), the ablation of its attention and MLP, and per head attention, ablation and direct share;
/// with one sentence generated from these numbers.
/// </summary>
public sealed record AffineLayerOneResult(int Layer, double LensMseBefore, double LensMseAfterAttention, double LensMseAfter, double LensLogShare,
    double RSquaredNextBefore, double RSquaredNextAfter, double RSquaredCurrentBefore, double RSquaredCurrentAfter,
    IReadOnlyDictionary<string, double> AttentionTowardCopyLast, IReadOnlyDictionary<string, double> MlpTowardCopyLast,
    IReadOnlyList<LayerOneHead> Heads, string Finding)
{
    /// <summary>analysis.json's "layer_one": the lens step, the layer's ablations per group ("all", "a_pos", "a_neg"), per head ("L1H0") its numbers, and the finding.</summary>
    public JsonObject AnalysisNumbers()
    {
        static JsonObject ByGroup(IReadOnlyDictionary<string, double> values)
        {
            var json = new JsonObject();
            foreach (var (group, value) in values) json[AffineFormat.GroupKey(group)] = AffineFormat.Number(value);
            return json;
        }
        var heads = new JsonObject();
        foreach (var h in Heads) heads[h.Name] = h.ToJson();
        return new JsonObject
        {
            ["layer"] = Layer,
            ["lens_mse_before"] = AffineFormat.Number(LensMseBefore), ["lens_mse_after_attention"] = AffineFormat.Number(LensMseAfterAttention),
            ["lens_mse_after"] = AffineFormat.Number(LensMseAfter), ["lens_log_share"] = AffineFormat.Number(LensLogShare),
            ["r2_next_before"] = AffineFormat.Number(RSquaredNextBefore), ["r2_next_after"] = AffineFormat.Number(RSquaredNextAfter),
            ["r2_current_before"] = AffineFormat.Number(RSquaredCurrentBefore), ["r2_current_after"] = AffineFormat.Number(RSquaredCurrentAfter),
            ["attention_toward_copy_last"] = ByGroup(AttentionTowardCopyLast), ["mlp_toward_copy_last"] = ByGroup(MlpTowardCopyLast),
            ["heads"] = heads,
            ["finding"] = Finding,
        };
    }

    /// <summary>The "What layer 1 does" section of report.md (a table; the figures are the other sections').</summary>
    public void Report(ReportBuilder report)
    {
        report.Heading($"What layer {Layer} does (the paper gives it no role)")
            .Paragraph(Finding)
            .Table(["lens", "MSE to x_{n+1}", "R² on x_n", "R² on x_{n+1}"],
            [
                [$"before layer {Layer}", AffineFormat.E(LensMseBefore), AffineFormat.F(RSquaredCurrentBefore), AffineFormat.F(RSquaredNextBefore)],
                [$"after layer {Layer}", AffineFormat.E(LensMseAfter), AffineFormat.F(RSquaredCurrentAfter), AffineFormat.F(RSquaredNextAfter)],
            ])
            .Table(["head", "attention to n", "attention to n − 1", "zero-ablation ΔMSE", "toward copy-last", "a > 0", "a < 0", "mean-ablation toward copy-last",
                    "direct-path removal ΔMSE", "direct share", "r(c, x_{n+1} − x_n)"],
                Heads.Select(h => (IReadOnlyList<object?>)[h.Name, AffineFormat.F(h.AttentionToCurrent), AffineFormat.F(h.AttentionToPrevious),
                    AffineFormat.E(h.ZeroDeltaMse), AffineFormat.F(h.ZeroTowardCopyLast), AffineFormat.F(h.ZeroTowardCopyLastPositiveA),
                    AffineFormat.F(h.ZeroTowardCopyLastNegativeA), AffineFormat.F(h.MeanTowardCopyLast), AffineFormat.E(h.DirectRemovalDeltaMse),
                    AffineFormat.F(h.DirectShare), AffineFormat.F(h.CorrelationCorrection)]));
    }
}

/// <summary>
/// What layer 1 does, from the lens, the direct contributions and the ablations plus its own attention
/// summary, summarised in one sentence whose wording is chosen by the thresholds below (nothing about the
/// conclusion is fixed in advance).
/// </summary>
public static class AffineLayerOne
{
    /// <summary>The layer studied: the middle one of the paper's three.</summary>
    public const int DefaultLayer = 1;

    /// <summary>An ablation that moves the error less than this share of the way to copy-last (pooled, all sequences) is called negligible [ours].</summary>
    public const double NegligibleTowardCopyLast = 0.05;

    /// <summary>A layer whose step takes at least this share of the whole drop of log lens MSE (embedding → output) is said to move the read-out toward x_{n+1} [ours].</summary>
    public const double LensShareMin = 0.1;

    /// <summary>A head whose direct path explains at least this share of its zero-ablation ΔMSE is said to act directly, else through later layers [ours].</summary>
    public const double DirectShareMin = 0.5;

    /// <summary>The layer's attention is said to serve one sign of a when ablating it raises that group's MSE at least this many times as much as the other's [ours].</summary>
    public const double SignAsymmetryMin = 3;

    /// <summary>A head with at least this mean attention on one position (current or previous) is said to attend to it, else to spread its attention [ours].</summary>
    public const double AttentionFocusMin = 0.5;

    public static AffineLayerOneResult Measure(Transformer<float> model, AffineTestSet test, AffineLensResult lens,
        AffineHeadContributionsResult contributions, AffineAblationsResult ablations, int layer = DefaultLayer)
    {
        if (layer < 1 || layer >= model.Config.NLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0…{model.Config.NLayers - 1}; the lens step needs a layer before it");
        var before = lens.Stage($"L{layer - 1}");
        var after = lens.Stage($"L{layer}");
        double afterAttention = lens.Stages.FirstOrDefault(s => s.Name == $"L{layer} attn")?.MseToNext ?? double.NaN;
        double logShare = Math.Log(before.MseToNext / after.MseToNext) / Math.Log(lens.Stages[0].MseToNext / lens.Stages[^1].MseToNext);
        var attention = AttentionToRecent(model, test, layer);
        var heads = Enumerable.Range(0, model.Config.NHeads).Select(h =>
        {
            string name = AffineFormat.HeadName(layer, h);
            var zero = ablations.Effect(name, "zero");
            var direct = contributions.Component(name)["all"];
            return new LayerOneHead(name, h, attention[h].Current, attention[h].Previous, zero["all"].PooledDeltaMse, zero["all"].TowardCopyLast,
                zero["a > 0"].TowardCopyLast, zero["a < 0"].TowardCopyLast, ablations.Effect(name, "mean")["all"].TowardCopyLast,
                direct.DirectRemovalDeltaMse, direct.DirectRemovalDeltaMse / zero["all"].PooledDeltaMse, direct.CorrelationCorrection);
        }).ToList();
        var attentionLayer = ablations.Effect($"L{layer} attn", "zero");
        var attentionShares = AffineTokens.SignGroups.ToDictionary(g => g, g => attentionLayer[g].TowardCopyLast);
        var mlpShares = model.Config.HasMlp
            ? AffineTokens.SignGroups.ToDictionary(g => g, g => ablations.Effect($"L{layer} MLP", "zero")[g].TowardCopyLast)
            : AffineTokens.SignGroups.ToDictionary(g => g, _ => double.NaN);
        string finding = Finding(layer, before, after, logShare, attentionShares, mlpShares, heads,
            (attentionLayer["a > 0"].PooledDeltaMse, attentionLayer["a < 0"].PooledDeltaMse));
        return new AffineLayerOneResult(layer, before.MseToNext, afterAttention, after.MseToNext, logShare, before.OnNext.RSquared, after.OnNext.RSquared,
            before.OnCurrent.RSquared, after.OnCurrent.RSquared, attentionShares, mlpShares, heads, finding);
    }

    /// <summary>Per head of <paramref name="layer"/>: mean attention from query n to key n and to key n − 1, over queries n ≥ <see cref="AffineTokens.FirstDeterminedPosition"/> of every test sequence.</summary>
    public static (double Current, double Previous)[] AttentionToRecent(Transformer<float> model, AffineTestSet test, int layer)
    {
        model = AffineForward.OnCpu(model);
        int heads = model.Config.NHeads, positions = test.Positions, first = Math.Min(AffineTokens.FirstDeterminedPosition, positions - 1);
        var current = new double[heads];
        var previous = new double[heads];
        string hook = HookNames.Pattern(layer);
        AffineForward.Run(model, test.Inputs, positions, (_, _) => AffineForward.Recording(hook), batch =>
        {
            var pattern = batch.Cache![hook].ToArray();   // [rows, head, query, key]
            for (int row = 0; row < batch.Rows; row++)
                for (int h = 0; h < heads; h++)
                    for (int q = first; q < positions; q++)
                    {
                        int at = ((row * heads + h) * positions + q) * positions;
                        current[h] += pattern[at + q];
                        previous[h] += pattern[at + q - 1];
                    }
        });
        double queries = (double)test.Count * (positions - first);
        return Enumerable.Range(0, heads).Select(h => (current[h] / queries, previous[h] / queries)).ToArray();
    }

    static string Finding(int layer, LensStage before, LensStage after, double logShare, IReadOnlyDictionary<string, double> attention,
        IReadOnlyDictionary<string, double> mlp, IReadOnlyList<LayerOneHead> heads, (double Positive, double Negative) attentionDelta)
    {
        string F(double v) => AffineFormat.F(v, 2);
        string moves = logShare >= LensShareMin ? "moves the lens read-out toward x_{n+1}" : "barely moves the lens read-out toward x_{n+1}";
        string Negligible(double toward) => toward < NegligibleTowardCopyLast ? " (negligible)" : "";
        var top = heads.MaxBy(h => h.ZeroTowardCopyLast)!;
        string sign = attentionDelta.Positive >= SignAsymmetryMin * attentionDelta.Negative ? ", mostly on sequences with a > 0"
            : attentionDelta.Negative >= SignAsymmetryMin * attentionDelta.Positive ? ", mostly on sequences with a < 0" : "";
        string path = top.DirectShare > 1 ? "writes into the prediction directly, but later components (its layer's MLP, later layers) make up part of its loss when it is ablated"
            : top.DirectShare >= DirectShareMin ? "acts mostly on the prediction directly" : "acts mostly through later layers";
        string looks = top.AttentionToCurrent >= AttentionFocusMin ? "attends mostly to the current position"
            : top.AttentionToPrevious >= AttentionFocusMin ? "attends mostly to the previous position" : "spreads its attention";
        return $"Layer {layer} {moves}: its step takes the lens MSE to x_{{n+1}} from {AffineFormat.E(before.MseToNext)} to {AffineFormat.E(after.MseToNext)} " +
               $"({F(logShare * 100)} % of the drop of log lens MSE from the embedding to the output; R² on x_{{n+1}} {F(before.OnNext.RSquared)} → {F(after.OnNext.RSquared)}). " +
               $"Zero-ablating its attention moves the error {F(attention["all"])} of the way to copy-last{Negligible(attention["all"])} " +
               $"({F(attention["a > 0"])} for a > 0, {F(attention["a < 0"])} for a < 0; ΔMSE {AffineFormat.E(attentionDelta.Positive)} vs {AffineFormat.E(attentionDelta.Negative)}{sign})" +
               (double.IsNaN(mlp["all"]) ? "" : $", zero-ablating its MLP {F(mlp["all"])}{Negligible(mlp["all"])}") + ". " +
               $"Its most important head, {top.Name} ({F(top.ZeroTowardCopyLast)} toward copy-last when zero-ablated), {path} " +
               $"(direct share {F(top.DirectShare)}) and {looks} ({F(top.AttentionToCurrent)} on n, {F(top.AttentionToPrevious)} on n − 1).";
    }
}
