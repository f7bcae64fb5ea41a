using System.Globalization;
using Forge.Experiments.Framework;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Sorting;

/// <summary>report.md of one sorting run: what ran, the numbers, the figures, and each paper claim with this run's verdict.</summary>
public static class SortingReport
{
    public static AnalysisOutcome Write(RunFolder folder, SortingRun training, SortingAnalysisResult a)
    {
        var r = training.SortingRecipe;
        var report = new ReportBuilder(folder.Root);
        report.Heading("Sorting run", 1)
            .Paragraph($"1-layer attention-only transformer sorting lists of {r.ListLength} numbers from 0..{r.MaxValue} " +
                       $"({(r.GapMean is double g ? $"controlled gaps, mean {g}" : "uniform lists")}); {r.Heads} heads, d_model {r.DModel}, d_head {r.DHead}, " +
                       $"LayerNorm {(r.LayerNorm ? "on" : "off")}; {r.TrainSize:N0}/{r.ValSize:N0} lists, batch {r.BatchSize}, {training.Steps} steps, " +
                       $"Adam (coupled decay {r.WeightDecay}), lr {r.LearningRate} → {r.FinalLearningRate} per epoch; seed {training.Seed}. Settings: `config.json`.");
        report.Heading("Results")
            .Table(["metric", "value"], new[]
            {
                Row("validation loss", a.Clean.Loss), Row("validation per-token accuracy", a.Clean.Accuracy),
                Row("mean p(correct token)", a.Clean.MeanCorrectProbability), Row("mean confidence", a.Clean.MeanConfidence),
                Row("mean entropy (nats)", a.Clean.MeanEntropy), Row("training loss L(w*)", a.TrainLoss),
                new object?[] { "LLC (mean ± std over chains)", $"{F(a.Llc.Mean)} ± {F(a.Llc.Std)} ({a.Llc.PerChain.Length} chains, nβ = {F(a.Llc.NBeta)})" },
                new object?[] { "mode", a.Modes.Mode.ToString() },
            })
            .Figure(a.Figures["loss"], "Training and validation loss");
        report.Heading("Circuits and mode")
            .Paragraph($"Mode: **{a.Modes.Mode}** — {a.Modes.Explanation}. Rule ([ours], see `ModeClassifier`): copy score c_h[t] = OV_h[t,t] − mean_u OV_h[t,u] " +
                       $"on the LayerNorm-folded full OV circuit, scaled by the model's largest |c|; a head copies t when c > {ModeClassifier.Threshold} and suppresses it when c < −{ModeClassifier.Threshold}. " +
                       $"Copy-suppression: a head suppressing ≥ {ModeClassifier.SuppressorShare:P0} of the numbers, ≥ {ModeClassifier.SuppressedCopied:P0} of them copied by another head. " +
                       $"Vocabulary-splitting: ≥ 2 copying heads whose copy sets overlap by ≤ {ModeClassifier.MaxSplitOverlap:P0}. Otherwise overlapping.")
            .Table(["head", "copies", "suppresses", "contiguous regions"], a.Modes.Heads.Select(h => (IReadOnlyList<object?>)new object?[]
                { h.Head, h.Copies.Length, h.Suppresses.Length, string.Join(", ", h.Regions.Select(x => $"{x.First}–{x.Last}")) }))
            .Paragraph($"Check against real data: for {a.AttentionAgreement:P0} of the numbers, the head that attends most to the number about to be output is a head whose OV circuit copies it.")
            .Figure(a.Figures["ov"], "Full OV circuits").Figure(a.Figures["copy_scores"], "Copy scores per number")
            .Figure(a.Figures["qk"], "Full QK circuits").Figure(a.Figures["pos_qk"], "Positional QK")
            .Figure(a.Figures["patterns"], "Attention patterns on a validation list").Figure(a.Figures["attention_to_target"], "Attention on the next output number");
        report.Heading("Ablations")
            .Table(["head", "ablation", "Δ loss", "Δ accuracy", "Δ mean entropy", "Δ mean confidence"], a.Ablations.Select(x => (IReadOnlyList<object?>)new object?[]
                { x.Head, x.Kind, F(x.DeltaLoss), F(x.DeltaAccuracy), F(x.DeltaEntropy), F(x.DeltaConfidence) }))
            .Figure(a.Figures["ablation_loss"], "Loss increase per ablated head").Figure(a.Figures["reliability"], "Reliability diagram");
        report.Heading("Local Learning Coefficient")
            .Paragraph($"SGLD around the final weights: {r.LlcChains} chains × ({r.LlcBurnIn} burn-in + {r.LlcDraws} draws), ε = {r.LlcEpsilon}, γ = {r.LlcGamma}, nβ = {F(a.Llc.NBeta)}, batch {r.LlcBatchSize}. " +
                       $"Per chain: {string.Join(", ", a.Llc.PerChain.Select(F))}.{(a.Llc.Diverged ? " **A chain diverged: the estimate is not valid with these settings.**" : "")}")
            .Figure(a.Figures["llc_traces"], "SGLD loss traces");
        report.Heading("The paper's claims: this run's verdicts").Claims(Claims(a, r));
        folder.WriteReport(report.ToString());
        string llc = a.Llc.Diverged ? "LLC diverged" : $"LLC {a.Llc.Mean.ToString("F1", CultureInfo.InvariantCulture)} ± {a.Llc.Std.ToString("F1", CultureInfo.InvariantCulture)}";
        return new AnalysisOutcome($"{a.Modes.Mode}, val acc {a.Clean.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}, {llc}", AnalysisNumbers(a));
    }

    /// <summary>analysis.json's numbers: the analysis' headline numbers, machine-readable (the sweep report aggregates these).</summary>
    static System.Text.Json.Nodes.JsonObject AnalysisNumbers(SortingAnalysisResult a) => new()
        {
            ["mode"] = a.Modes.Mode.ToString(),
            ["val_loss"] = a.Clean.Loss,
            ["val_acc"] = a.Clean.Accuracy,
            ["mean_p_correct"] = a.Clean.MeanCorrectProbability,
            ["train_loss"] = a.TrainLoss,
            ["llc_mean"] = a.Llc.Mean,
            ["llc_std"] = a.Llc.Std,
            ["llc_diverged"] = a.Llc.Diverged,
            ["copied_per_head"] = new System.Text.Json.Nodes.JsonArray(a.Modes.Heads.Select(h => (System.Text.Json.Nodes.JsonNode?)h.Copies.Length).ToArray()),
            ["max_copy_overlap"] = a.Modes.MaxCopyOverlap,
            ["suppression_pair"] = a.Modes.SuppressionPair is { } pair ? $"{pair.Copier}->{pair.Suppressor}" : null,
            ["attention_agreement"] = double.IsNaN(a.AttentionAgreement) ? null : a.AttentionAgreement,
            ["ablations"] = new System.Text.Json.Nodes.JsonArray(a.Ablations.Select(x => (System.Text.Json.Nodes.JsonNode?)new System.Text.Json.Nodes.JsonObject
            {
                ["head"] = x.Head, ["kind"] = x.Kind, ["delta_loss"] = x.DeltaLoss, ["delta_accuracy"] = x.DeltaAccuracy,
                ["delta_entropy"] = x.DeltaEntropy, ["delta_confidence"] = x.DeltaConfidence,
            }).ToArray()),
        };

    static IEnumerable<ClaimVerdict> Claims(SortingAnalysisResult a, SortingRecipe r)
    {
        yield return new("1. A 1-layer attention-only transformer learns to sort", a.Clean.Accuracy >= 0.99 ? Verdict.Supported : Verdict.NotSupported,
            $"validation per-token accuracy {F(a.Clean.Accuracy)} (one seed)");
        bool organised = a.Modes.Mode is SortingMode.VocabularySplitting or SortingMode.CopySuppression;
        yield return new("2. Heads end in vocabulary-splitting or copy-suppression", r.Heads < 2 ? Verdict.NotTested : organised ? Verdict.Supported : Verdict.NotSupported,
            $"mode {a.Modes.Mode}: {a.Modes.Explanation}; one seed — the fraction over seeds is in the sweep report");
        yield return new("3. Both modes are simpler (lower LLC) than overlapping heads", Verdict.NotTested,
            $"needs models in several modes (sweep report); this model's LLC is {F(a.Llc.Mean)} ± {F(a.Llc.Std)}");
        yield return new("4. Vocabulary-splitting appears with and without weight decay", Verdict.NotTested,
            $"this run used weight decay {r.WeightDecay}; the comparison is in the sweep report");
        var suppressor = a.Modes.SuppressionPair;
        yield return new("5. Copy-suppression calibrates the copying head",
            suppressor is null ? Verdict.NotTested : Verdict.Inconclusive,
            suppressor is null ? "no copy-suppression pair in this model"
                : $"mean-ablating the suppressor (head {suppressor.Value.Suppressor}) changes mean confidence by {F(a.Ablations.First(x => x.Head == suppressor.Value.Suppressor && x.Kind == "mean").DeltaConfidence)}; see the reliability diagram");
        yield return new("6. Development in stages; the gap statistic δ̄ decides the mode", Verdict.NotTested,
            "needs the development analysis over checkpoints and the δ̄ sweep");
    }

    static object?[] Row(string name, double value) => [name, F(value)];

    static string F(double value) => value.ToString(Math.Abs(value) >= 100 ? "F1" : "F4", CultureInfo.InvariantCulture);
}
