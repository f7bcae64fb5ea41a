using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Coupling;
using Forge.Experiments.Framework;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Language;

/// <summary>
/// report.md of one language model: held-out and training loss, the loss curves, and the coupling measurement of
/// the final model against its own initial weights (coupling.json). analysis.json carries what the family sweep
/// correlates: held-out loss, size, depth, width, training length, weight decay and the coupling scalars.
/// </summary>
public static class LmReport
{
    /// <summary>The K whose coupling scalar the family report correlates with held-out loss [ours]: the paper's smallest.</summary>
    public const int HeadlineK = 10;

    public static AnalysisOutcome Write(RunFolder folder, LmRun run, TextWriter output)
    {
        var r = run.LmRecipe;
        output.WriteLine("analysis: held-out loss");
        var validation = new TokenEvaluator<float>(run.Model, run.Validation, LmRun.EvalBatch).Evaluate();
        double trainLoss = new TokenEvaluator<float>(run.Model, run.Train, LmRun.EvalBatch).Evaluate(r.ValWindows == 0 ? null : r.ValWindows).Loss;

        var table = MetricsTable.Read(folder.MetricsPath);
        var steps = table.Column("step");
        string lossFigure = folder.FigurePath("loss.png");
        Figures.Lines(lossFigure, [new Series("training loss (batch)", steps, table.Column("train_loss")), new Series("held-out loss", steps, table.Column("val_loss"))],
            "Loss over training", "step", "cross-entropy (nats per token)", logX: true);

        output.WriteLine("analysis: coupling of the final model and of its initial weights");
        var (trained, untrained, random) = MeasureCoupling(run, run.Model, output);
        AtomicFile.WriteAllText(Path.Combine(folder.Root, CouplingReport.JsonFile),
            CouplingReport.ToJson(trained, untrained, random, $"{r.Init}, this run's own initial weights").ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        long parameters = run.Model.Parameters.All.Sum(p => (long)p.Data.Length);
        var report = new ReportBuilder(folder.Root).Heading("Language model", 1)
            .Paragraph($"{r.Layers}-layer GPT (d_model {r.DModel}, {r.Heads} heads of {r.DHead}, d_mlp {r.DMlp}, context {r.Context}; {parameters:N0} parameters) " +
                       $"on the Brown corpus ({run.Corpus.Source}), GPT-2 BPE restricted to {r.Vocabulary} tokens + <unk> " +
                       $"({run.Corpus.ValidationCoverage:P1} of held-out tokens in the vocabulary); {run.Train.Count:N0} training windows, " +
                       $"batch {r.BatchSize}, {run.Steps} steps, AdamW lr {r.LearningRate} (warm-up {r.WarmupSteps}, cosine to {r.FinalLrFraction}×), weight decay {r.WeightDecay}; seed {run.Seed}.")
            .Table(["", "loss (nats/token)", "next-token accuracy"],
            [
                ["held-out", F(validation.Loss), F(validation.Accuracy)],
                ["training (same number of windows)", F(trainLoss), "–"],
            ])
            .Figure(lossFigure, "Loss over training")
            .Heading("Block coupling");
        CouplingReport.AddSections(report, folder.FiguresFolder, trained, untrained, random, $"{r.Init}, this run's own initial weights");
        folder.WriteReport(report.ToString());

        int k = trained.Scalar.ContainsKey(HeadlineK) ? HeadlineK : trained.Scalar.Keys.First();
        var numbers = new JsonObject
        {
            ["val_loss"] = validation.Loss, ["val_acc"] = validation.Accuracy, ["train_loss"] = trainLoss,
            ["parameters"] = parameters, ["layers"] = r.Layers, ["d_model"] = r.DModel, ["steps"] = run.Steps, ["weight_decay"] = r.WeightDecay,
            ["coupling_k"] = k,
            ["coupling"] = CouplingReport.Numbers(trained)["scalar"]!.DeepClone(),
            ["coupling_untrained"] = CouplingReport.Numbers(untrained)["scalar"]!.DeepClone(),
            ["line_shape_score"] = Number(trained.MeanLineShape), ["line_shape_score_untrained"] = Number(untrained.MeanLineShape),
            ["growth"] = CouplingReport.Numbers(trained)["growth"]!.DeepClone(),
            ["growth_untrained"] = CouplingReport.Numbers(untrained)["growth"]!.DeepClone(),
        };
        return new AnalysisOutcome($"held-out loss {F(validation.Loss)}; coupling (K = {k}) {F(trained.Scalar[k])} (untrained {F(untrained.Scalar[k])})", numbers);
    }

    /// <summary>The coupling of <paramref name="model"/>, of the run's initial weights, and of random matrices, on the run's held-out prompts.</summary>
    public static (CouplingResult Trained, CouplingResult Untrained, IReadOnlyDictionary<int, double[,]> Random) MeasureCoupling(LmRun run, Transformer<float> model, TextWriter? output)
    {
        var r = run.LmRecipe;
        var prompts = run.HeldOutPrompts(r.CouplingPrompts)!;
        var options = Options(r);
        var trained = CouplingMeasurement.Measure(model.Cast<double>(), prompts, options);
        var untrained = CouplingMeasurement.Measure(run.InitialModel().Cast<double>(), prompts, options);
        var random = CouplingMeasurement.RandomBaseline(r.DModel, r.Layers, options.Ks, repeats: 2, new Rng(12345));
        output?.WriteLine($"  coupling scalars (trained / untrained): {string.Join(", ", options.Ks.Select(k => $"K {k}: {F(trained.Scalar[k])} / {F(untrained.Scalar[k])}"))}");
        return (trained, untrained, random);
    }

    /// <summary>The measurement the lm analyses use: the default K values, 8 positions spread over the context, the middle layer's token-wise coupling.</summary>
    public static CouplingOptions Options(LmRecipe r) =>
        new(CouplingCommand.ParseKs(null, r.DModel), CouplingCommand.ParsePositions("spread:8", r.Context), r.Layers / 2);

    static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
}
