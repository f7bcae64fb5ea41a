using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Framework;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Affine;

/// <summary>
/// report.md of one affine run: what ran, the error against the baselines, which heads copy and which are
/// negative-similarity heads (with the evidence), every analysis' section, the LLC, and the paper's claims
/// with this run's verdicts; and analysis.json's numbers, which the sweep report aggregates.
/// </summary>
public static class AffineReport
{
    /// <summary>The bar of the acceptance test [ours]: from position 2 on, the model's MSE at most this share of copy-last's at every position.</summary>
    public const double LearnedRatio = 0.1;

    /// <summary>The layer whose negative-similarity heads claim 3 names.</summary>
    public const int RefiningLayer = 2;

    public static AnalysisOutcome Write(RunFolder folder, AffineRun run, AffineAnalysisResult a)
    {
        var r = run.AffineRecipe;
        var all = a.Performance[0];
        var ratios = all.RatioToCopyLast;
        double worstFrom2 = ratios.Skip(2).DefaultIfEmpty(double.NaN).Max();
        var copyHeads = a.CopyHeads.Where(c => c.IsCopyHead).Select(c => c.Head).ToList();
        var negativeHeads = a.Attention.Heads.Where(h => h.Layer == RefiningLayer && h.Verdict == SimilarityVerdict.NegativeSimilarity).ToList();
        // A head that already passes the rule at initialisation shows a property of random weights, not of learning.
        var learnedNegative = negativeHeads.Where(h => a.UntrainedAttention.Head(h.Layer, h.Head).Verdict != SimilarityVerdict.NegativeSimilarity).ToList();
        var evidence = Evidence(a, negativeHeads);

        var report = new ReportBuilder(folder.Root);
        report.Heading("Affine recurrence run", 1)
            .Paragraph($"x_{{n+1}} = a·x_n + b with a ∈ [{r.A}], b ∈ [{r.B}], x_0 ∈ [{r.X0}] drawn per sequence, {r.SequenceLength} terms; " +
                       $"{r.Layers}-layer GPT (d_model {r.DModel}, {r.Heads} heads of {r.DHead}, d_mlp {r.DMlp}, pre-LN, linear read-in and read-out); " +
                       $"{run.Steps} steps of {r.BatchSize} fresh sequences, AdamW lr {r.LearningRate} (warm-up {r.WarmupSteps}, cosine to {r.FinalLearningRate}), " +
                       $"weight decay {r.WeightDecay}; seed {run.Seed}; {run.TestSet.Count} held-out sequences. Settings: `config.json`.");
        Errors(report, a, ratios, worstFrom2);
        report.Heading("The mechanism in one table")
            .Paragraph("Copy heads (layer 0) follow the copy-head rule; negative-similarity heads follow the negative-similarity rule (both stated in their sections below). " +
                       "For each named head: its evidence, and how far zero-ablating it moves the test error toward copy-last's (0: no change, 1: as bad as copying x_n), by sign of a.")
            .Table(["head", "role", "evidence", "zero-ablation toward copy-last: a > 0 / a < 0"],
                copyHeads.Select(h => Row(a, h, "copy (layer 0)", evidence[h]))
                    .Concat(negativeHeads.Select(h => Row(a, h.Name, $"negative similarity (layer {RefiningLayer})", evidence[h.Name]))).ToList());
        if (a.LayerOne is { } one) report.Paragraph($"Layer 1: {one.Finding}");
        report.Paragraph($"Control: the negative-similarity rule applied to the same model at initialisation (same seed, untrained) names " +
                         $"{Names(a.UntrainedAttention.NegativeSimilarityHeads)} of {a.UntrainedAttention.Heads.Count} heads; trained: {Names(a.Attention.NegativeSimilarityHeads)}. " +
                         $"Layer-{RefiningLayer} heads that pass the rule after training but not before: {Names(learnedNegative.Select(h => h.Name).ToList())}.");
        AffineAttentionReport.Write(report, a.Attention);
        AffineCopyHeadRule.Report(report, a.CopyHeads);
        a.Lens.Report(report, folder);
        a.Contributions.Report(report, folder);
        a.Ablations.Report(report, folder);
        a.Patching.Report(report, folder);
        a.LayerOne?.Report(report);
        report.Heading("Local Learning Coefficient")
            .Paragraph($"SGLD on the MSE of fresh minibatches around the final weights: {r.LlcChains} chains × ({r.LlcBurnIn} burn-in + {r.LlcDraws} draws), ε = {r.LlcEpsilon}, γ = {r.LlcGamma}, " +
                       $"nβ = {F(a.Llc.NBeta, 1)}, batch {r.LlcBatchSize}; L(w*) = {E(a.TrainLoss)}. λ̂ = {F(a.Llc.Mean, 2)} ± {F(a.Llc.Std, 2)}" +
                       (a.Llc.Diverged ? " — **a chain diverged: not a valid estimate with these settings**." : "."))
            .Figure(a.Figures["llc_traces"], "SGLD loss traces");
        report.Heading("The paper's claims: this run's verdicts").Claims(Claims(worstFrom2, copyHeads, negativeHeads, learnedNegative, evidence, a));
        folder.WriteReport(report.ToString());

        var numbers = new JsonObject
        {
            ["val_mse"] = all.Model.Average(),
            ["worst_ratio_to_copy_last_from_2"] = worstFrom2,
            ["ratio_to_copy_last_by_position"] = new JsonArray(ratios.Select(v => (JsonNode?)v).ToArray()),
            ["copy_heads"] = new JsonArray(copyHeads.Select(h => (JsonNode?)h).ToArray()),
            ["negative_similarity_heads"] = new JsonArray(negativeHeads.Select(h => (JsonNode?)h.Name).ToArray()),
            ["negative_similarity_heads_all_layers"] = new JsonArray(a.Attention.NegativeSimilarityHeads.Select(h => (JsonNode?)h).ToArray()),
            ["negative_similarity_heads_untrained"] = new JsonArray(a.UntrainedAttention.NegativeSimilarityHeads.Select(h => (JsonNode?)h).ToArray()),
            ["learned_negative_similarity_heads"] = new JsonArray(learnedNegative.Select(h => (JsonNode?)h.Name).ToArray()),
            ["head_evidence"] = new JsonObject(evidence.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["layer1_finding"] = a.LayerOne?.Finding,
            ["llc_mean"] = a.Llc.Mean, ["llc_std"] = a.Llc.Std, ["llc_diverged"] = a.Llc.Diverged,
            ["attention"] = a.Attention.AnalysisNumbers(),
            ["copy_head_rule"] = AffineCopyHeadRule.AnalysisNumbers(a.CopyHeads),
            ["lens"] = a.Lens.AnalysisNumbers(),
            ["contributions"] = a.Contributions.AnalysisNumbers(),
            ["ablations"] = a.Ablations.AnalysisNumbers(),
            ["patching"] = a.Patching.AnalysisNumbers(),
            ["layer_one"] = a.LayerOne?.AnalysisNumbers(),
        };
        string headline = $"test MSE from position 2 ≤ {F(worstFrom2 * 100, 3)} % of copy-last; copy heads {Names(copyHeads)}; " +
                          $"negative-similarity heads in layer {RefiningLayer}: {Names(negativeHeads.Select(h => h.Name).ToList())}; LLC {F(a.Llc.Mean, 1)} ± {F(a.Llc.Std, 1)}";
        return new AnalysisOutcome(headline, numbers);
    }

    static void Errors(ReportBuilder report, AffineAnalysisResult a, double[] ratios, double worstFrom2)
    {
        var all = a.Performance[0];
        report.Heading("Error against the baselines")
            .Paragraph($"From position 2 on the model's test MSE is at most {F(worstFrom2 * 100, 3)} % of copy-last's (the bar is {LearnedRatio:P0}). " +
                       "Copy-last predicts x_n; the oracle is exact from position 2 on (three terms fix a and b) and the posterior mean before.")
            .Table(["position n", "model", "copy-last", "oracle", "model / copy-last"], Enumerable.Range(0, all.Model.Length).Select(n => (IReadOnlyList<object?>)
                [n, E(all.Model[n]), E(all.CopyLast[n]), E(all.Oracle[n]), F(ratios[n], 5)]))
            .Figure(a.Figures["mse"], "Test MSE per position")
            .Table(["sequences", "count", "model MSE from position 2", "copy-last MSE from position 2", "ratio"], a.Performance.Select(p => (IReadOnlyList<object?>)
                [p.Label, p.Sequences, E(p.Model.Skip(2).Average()), E(p.CopyLast.Skip(2).Average()), F(p.Model.Skip(2).Average() / p.CopyLast.Skip(2).Average(), 5)]))
            .Figure(a.Figures["mse_by_sign"], "Test MSE by sign and size of a")
            .Figure(a.Figures["loss"], "Training and test MSE");
    }

    /// <summary>One line of evidence per named head: for copy heads the rule's two numbers, for negative-similarity heads the deciding slopes.</summary>
    static Dictionary<string, string> Evidence(AffineAnalysisResult a, IReadOnlyList<HeadAttention> negativeHeads)
    {
        var evidence = new Dictionary<string, string>();
        foreach (var c in a.CopyHeads.Where(c => c.IsCopyHead))
            evidence[c.Head] = $"contribution r with x_n {F(c.CorrelationCurrent, 2)}, zero-ablation {F(c.ZeroTowardCopyLast, 2)} of the way to copy-last";
        foreach (var h in negativeHeads)
        {
            var distance = h[SimilarityMeasure.NegativeDistance];
            var product = h[SimilarityMeasure.Product];
            evidence[h.Name] = $"score slope on −|x_i−x_j| {F(distance.Slope, 3)} [{F(distance.CiLow, 3)}, {F(distance.CiHigh, 3)}] (R² {F(distance.RSquared, 2)}), " +
                               $"on x_i·x_j {F(product.Slope, 3)} [{F(product.CiLow, 3)}, {F(product.CiHigh, 3)}]";
        }
        return evidence;
    }

    static IReadOnlyList<object?> Row(AffineAnalysisResult a, string head, string role, string evidence)
    {
        var zero = a.Ablations.Effect(head, "zero");
        return [head, role, evidence, $"{F(zero["a > 0"].TowardCopyLast, 3)} / {F(zero["a < 0"].TowardCopyLast, 3)}"];
    }

    static IEnumerable<ClaimVerdict> Claims(double worstFrom2, IReadOnlyList<string> copyHeads, IReadOnlyList<HeadAttention> negativeHeads,
        IReadOnlyList<HeadAttention> learnedNegative, IReadOnlyDictionary<string, string> evidence, AffineAnalysisResult a)
    {
        yield return new("1. A 3-layer GPT-style transformer learns affine recurrences in context",
            worstFrom2 <= LearnedRatio ? Verdict.Supported : Verdict.NotSupported,
            $"test MSE from position 2 on at most {F(worstFrom2 * 100, 3)} % of copy-last's (bar {LearnedRatio:P0}); one seed");
        yield return new("2. Layer 0 forms a first estimate by copying",
            copyHeads.Count > 0 ? Verdict.Supported : Verdict.NotSupported,
            copyHeads.Count > 0 ? $"copy heads {Names(copyHeads)}: {string.Join("; ", copyHeads.Select(h => evidence[h]))}; one seed" : "no layer-0 head passes the copy-head rule; one seed");
        string negativeElsewhere = string.Join(", ", a.Attention.NegativeSimilarityHeads.Where(h => !negativeHeads.Any(n => n.Name == h)));
        yield return new("3. Layer 2 refines it with negative-similarity heads",
            learnedNegative.Count > 0 ? Verdict.Supported : negativeHeads.Count > 0 ? Verdict.Inconclusive : Verdict.NotSupported,
            (negativeHeads.Count > 0 ? $"{Names(negativeHeads.Select(h => h.Name).ToList())}: {string.Join("; ", negativeHeads.Select(h => evidence[h.Name]))}" : "no layer-2 head passes the negative-similarity rule") +
            $"; learned (not passing at initialisation): {Names(learnedNegative.Select(h => h.Name).ToList())}" +
            (negativeElsewhere.Length > 0 ? $"; negative-similarity heads in other layers too: {negativeElsewhere}" : "") + "; one seed");
        yield return new("4. The mechanism is analysed theoretically", Verdict.NotTested, "a theory is not something a replication run can test");
    }

    static string Names(IReadOnlyList<string> heads) => heads.Count == 0 ? "none" : string.Join(", ", heads);
    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
    static string E(double v) => double.IsFinite(v) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : "–";
}
