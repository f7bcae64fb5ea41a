using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Framework;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Training;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// report.md of one retrieval run: held-out accuracy for every number of look-ups, accuracy and loss over
/// training (the staircase), the depth bound, and what this run says about the paper's claims.
/// </summary>
public static class RetrievalReport
{
    /// <summary>Held-out accuracy at the full depth that counts as solving it (the spec's bar).</summary>
    public const double SolvedAccuracy = 0.99;

    public static AnalysisOutcome Write(RunFolder folder, RetrievalRun run, TextWriter output)
    {
        var r = run.RetrievalRecipe;
        output.WriteLine("analysis: accuracy per number of look-ups");
        var byHops = run.ByHops.Select(set => new TokenEvaluator<float>(run.Model, set, RetrievalRun.EvalBatch).Evaluate()).ToArray();
        double accuracy = byHops[^1].Accuracy;
        int needed = RetrievalRecipe.LayersNeeded(r.Depth);

        var table = MetricsTable.Read(folder.MetricsPath);
        var steps = table.Column("step");
        string accuracyFigure = folder.FigurePath("accuracy_by_hops.png"), lossFigure = folder.FigurePath("loss_staircase.png");
        Figures.Lines(accuracyFigure, Enumerable.Range(1, r.Depth).Select(h => new Series($"{h} look-up{(h > 1 ? "s" : "")}", steps, table.Column($"acc_hops_{h}"))).ToList(),
            "Held-out accuracy over training, per number of look-ups", "step", "accuracy", logX: true);
        Figures.Lines(lossFigure, [new Series("training loss (batch)", steps, table.Column("train_loss")), new Series($"held-out loss at depth {r.Depth}", steps, table.Column("val_loss"))],
            "Loss over training", "step", "cross-entropy on the answer (nats)", logX: true, logY: true);

        var report = new ReportBuilder(folder.Root).Heading("Retrieval run", 1)
            .Paragraph($"{r.Chains} chains of depth {r.Depth} (one queried, {r.Chains - 1} distracting), {r.Names} names and {r.Values} values; curriculum **{r.Curriculum}**; " +
                       $"{r.Layers}-layer GPT (d_model {r.DModel}, {r.Heads} heads of {r.DHead}{(r.AttentionOnly ? ", attention only" : $", d_mlp {r.DMlp}")}); " +
                       $"{r.TrainSize:N0} training examples, batch {r.BatchSize}, {run.Steps} steps, AdamW lr {r.LearningRate} (warm-up {r.WarmupSteps}, then constant), " +
                       $"weight decay {r.WeightDecay}; seed {run.Seed}. The bound: depth {r.Depth} needs ⌈log₃(2·{r.Depth})⌉ = {needed} layers; this model has {r.Layers}.")
            .Heading("Held-out accuracy per number of look-ups")
            .Table(["look-ups", "accuracy", "loss"], byHops.Select((m, i) => (IReadOnlyList<object?>)[i + 1, F(m.Accuracy, 4), F(m.Loss, 4)]))
            .Figure(accuracyFigure, "Accuracy over training per number of look-ups")
            .Figure(lossFigure, "Loss over training");
        output.WriteLine("analysis: head scores per hop and head ablations");
        var heads = RetrievalHeads.Measure(run.Model, run.Task, run.ByHops[^1], 1024);
        var (clean, ablations) = RetrievalAblations.Run(run.Model, run.ByHops, 1024);
        string circuitFigure = folder.FigurePath("circuit.png"), attentionFigure = folder.FigurePath("attention_example.png");
        RetrievalFigures.Circuit(circuitFigure, heads);
        RetrievalFigures.AttentionMaps(attentionFigure, run.Model, run.Task, run.ByHops[^1], 0);
        report.Heading("Heads per hop")
            .Paragraph($"Score of head LlHh for hop k: the larger of its mean attention from the query to the token hop k needs, and from the token of hop k − 1 to it " +
                       $"(when that statement comes earlier). Heads scoring ≥ {RetrievalHeads.HeadThreshold} are the hop's heads.")
            .Table(["head", .. Enumerable.Range(1, r.Depth).Select(k => $"hop {k}")],
                Enumerable.Range(0, heads.Layers).SelectMany(l => Enumerable.Range(0, heads.Heads).Select(h => (IReadOnlyList<object?>)
                    [$"L{l}H{h}", .. Enumerable.Range(0, r.Depth).Select(k => (object?)Marked(heads.Score(l, h, k)))])))
            .Figure(circuitFigure, "The circuit: each head's retrieval score per hop")
            .Figure(attentionFigure, "Every head's attention on the first held-out example at full depth; * marks the queried chain's statements")
            .Heading("Head ablations")
            .Paragraph("Held-out accuracy per number of look-ups when one head's output is zeroed (1,024 examples each).")
            .Table(["ablated", .. Enumerable.Range(1, r.Depth).Select(k => $"{k} look-up{(k > 1 ? "s" : "")}")],
                ablations.Select(a => (IReadOnlyList<object?>)[$"L{a.Layer}H{a.Head}", .. a.AccuracyByHops.Select(v => (object?)F(v, 3))])
                    .Prepend(["none", .. clean.Select(v => (object?)F(v, 3))]));
        bool solved = accuracy >= SolvedAccuracy;
        report.Heading("What this run says about the paper's claims").Claims(
        [
            new("2. t layers solve depth D only if t ≥ log₃(2D)", Verdict.NotTested,
                $"one model ({r.Layers} layers, bound {needed}) {(solved ? "solves" : "does not solve")} depth {r.Depth} (accuracy {F(accuracy, 4)}); the bound needs the layers × depth sweep"),
            new("4. Small transformers learn it only with an implicit curriculum", Verdict.NotTested,
                $"curriculum {r.Curriculum}: depth-{r.Depth} accuracy {F(accuracy, 4)} ({(solved ? "solved" : "not solved")}, bar {SolvedAccuracy:P0}); the claim needs runs with and without the curriculum"),
        ]);
        folder.WriteReport(report.ToString());
        var numbers = new JsonObject
        {
            ["depth"] = r.Depth, ["layers"] = r.Layers, ["layers_needed"] = needed, ["curriculum"] = r.Curriculum,
            ["val_acc"] = accuracy, ["val_loss"] = byHops[^1].Loss,
            ["accuracy_by_hops"] = new JsonArray(byHops.Select(m => (JsonNode?)m.Accuracy).ToArray()),
            ["hop_heads"] = new JsonArray(heads.HopHeads().Select(x => (JsonNode?)new JsonObject
                { ["head"] = $"L{x.Layer}H{x.Head}", ["hop"] = x.Hop + 1, ["score"] = x.Score }).ToArray()),
            ["ablations"] = new JsonArray(ablations.Select(a => (JsonNode?)new JsonObject
                { ["head"] = $"L{a.Layer}H{a.Head}", ["accuracy_by_hops"] = new JsonArray(a.AccuracyByHops.Select(v => (JsonNode?)v).ToArray()) }).ToArray()),
        };
        return new AnalysisOutcome($"depth-{r.Depth} accuracy {F(accuracy, 4)} ({r.Layers} layers, bound {needed}, curriculum {r.Curriculum})", numbers);
    }

    static string Marked(double score) => score >= RetrievalHeads.HeadThreshold ? $"**{F(score, 2)}**" : F(score, 2);

    static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";
}
