using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Framework;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Affine;

/// <summary>report.md of one affine run: what ran, the error against the baselines, the mechanism, and the paper's claims with this run's verdicts.</summary>
public static class AffineReport
{
    /// <summary>The bar of the acceptance test [ours]: from position 2 on, the model's MSE at most this share of copy-last's at every position.</summary>
    public const double LearnedRatio = 0.1;

    public static AnalysisOutcome Write(RunFolder folder, AffineRun run, AffineAnalysisResult a)
    {
        var r = run.AffineRecipe;
        var all = a.Performance[0];
        var ratios = all.RatioToCopyLast;
        double worstFrom2 = ratios.Skip(2).Max();
        var report = new ReportBuilder(folder.Root);
        report.Heading("Affine recurrence run", 1)
            .Paragraph($"x_{{n+1}} = a·x_n + b with a ∈ [{r.A}], b ∈ [{r.B}], x_0 ∈ [{r.X0}] drawn per sequence, {r.SequenceLength} terms; " +
                       $"{r.Layers}-layer GPT (d_model {r.DModel}, {r.Heads} heads of {r.DHead}, d_mlp {r.DMlp}, pre-LN, linear read-in and read-out); " +
                       $"{run.Steps} steps of {r.BatchSize} fresh sequences, AdamW lr {r.LearningRate} (warm-up {r.WarmupSteps}, cosine to {r.FinalLearningRate}), " +
                       $"weight decay {r.WeightDecay}; seed {run.Seed}; {run.TestSet.Count} held-out sequences. Settings: `config.json`.");
        report.Heading("Error against the baselines")
            .Paragraph($"From position 2 on the model's test MSE is at most {F(worstFrom2 * 100, 2)} % of copy-last's (the bar is {LearnedRatio:P0}). " +
                       "Copy-last predicts x_n; the oracle is exact from position 2 on (three terms fix a and b) and the posterior mean before.")
            .Table(["position n", "model", "copy-last", "oracle", "model / copy-last"], Enumerable.Range(0, all.Model.Length).Select(n => (IReadOnlyList<object?>)
                [n, E(all.Model[n]), E(all.CopyLast[n]), E(all.Oracle[n]), F(ratios[n], 4)]))
            .Figure(a.Figures["mse"], "Test MSE per position")
            .Table(["sequences", "count", "model MSE from position 2", "copy-last MSE from position 2", "ratio"], a.Performance.Select(p => (IReadOnlyList<object?>)
                [p.Label, p.Sequences, E(p.Model.Skip(2).Average()), E(p.CopyLast.Skip(2).Average()), F(p.Model.Skip(2).Average() / p.CopyLast.Skip(2).Average(), 4)]))
            .Figure(a.Figures["mse_by_sign"], "Test MSE by sign and size of a")
            .Figure(a.Figures["loss"], "Training and test MSE");
        report.Heading("Local Learning Coefficient")
            .Paragraph($"SGLD on the MSE of fresh minibatches around the final weights: {r.LlcChains} chains × ({r.LlcBurnIn} burn-in + {r.LlcDraws} draws), ε = {r.LlcEpsilon}, γ = {r.LlcGamma}, " +
                       $"nβ = {F(a.Llc.NBeta, 1)}, batch {r.LlcBatchSize}; L(w*) = {E(a.TrainLoss)}. λ̂ = {F(a.Llc.Mean, 2)} ± {F(a.Llc.Std, 2)}" +
                       (a.Llc.Diverged ? " — **a chain diverged: not a valid estimate with these settings**." : "."))
            .Figure(a.Figures["llc_traces"], "SGLD loss traces");
        report.Heading("The paper's claims: this run's verdicts").Claims(
        [
            new("1. A 3-layer GPT-style transformer learns affine recurrences in context",
                worstFrom2 <= LearnedRatio ? Verdict.Supported : Verdict.NotSupported,
                $"test MSE from position 2 on at most {F(worstFrom2 * 100, 2)} % of copy-last's (bar {LearnedRatio:P0}); one seed"),
        ]);
        folder.WriteReport(report.ToString());
        var numbers = new JsonObject
        {
            ["val_mse"] = all.Model.Average(),
            ["worst_ratio_to_copy_last_from_2"] = worstFrom2,
            ["ratio_to_copy_last_by_position"] = new JsonArray(ratios.Select(v => (JsonNode?)v).ToArray()),
            ["llc_mean"] = a.Llc.Mean, ["llc_std"] = a.Llc.Std, ["llc_diverged"] = a.Llc.Diverged,
        };
        return new AnalysisOutcome($"test MSE from position 2 ≤ {F(worstFrom2 * 100, 2)} % of copy-last, LLC {F(a.Llc.Mean, 1)} ± {F(a.Llc.Std, 1)}", numbers);
    }

    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
    static string E(double v) => double.IsFinite(v) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : "–";
}
