using Forge.Experiments.Plotting;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;

namespace Forge.Experiments.Affine;

/// <summary>Everything the affine analysis measured on one model.</summary>
/// <param name="UntrainedAttention">The same attention measurements on the model at initialisation (same seed): the control that tells learned similarity preferences from accidental ones.</param>
public sealed record AffineAnalysisResult(IReadOnlyList<PositionMse> Performance, AffineAttentionResult Attention, AffineAttentionResult UntrainedAttention, AffineLensResult Lens,
    AffineHeadContributionsResult Contributions, AffineAblationsResult Ablations, AffinePatchingResult Patching, AffineLayerOneResult? LayerOne,
    IReadOnlyList<CopyHeadCheck> CopyHeads, LlcResult Llc, double TrainLoss, IReadOnlyDictionary<string, string> Figures);

/// <summary>
/// The analysis of a trained affine model on its held-out set: the error against the baselines, attention
/// and the negative-similarity test, the lens, direct contributions, ablations, activation patching,
/// layer 1, the copy-head rule and the LLC of the regression loss. Writes the figures into the run folder.
/// </summary>
public static class AffineAnalysis
{
    public static AffineAnalysisResult Run(AffineRun run, RunFolder folder, TextWriter output)
    {
        var figures = new Dictionary<string, string>();
        string Figure(string key, string file)
        {
            string path = folder.FigurePath(file);
            figures[key] = path;
            return path;
        }
        var model = run.Model;
        var test = run.TestSet;

        output.WriteLine("analysis: test MSE per position");
        var performance = AffinePerformance.Measure(run);
        PerformanceFigures(run, performance, Figure);

        output.WriteLine("analysis: attention and the negative-similarity test");
        var attention = AffineAttention.Measure(run, folder, output);
        var untrained = new AffineRun(run.AffineRecipe, run.Seed, run.Steps, CpuDevice.Instance);
        output.WriteLine("analysis: the same test on the untrained model (control)");
        var untrainedAttention = AffineAttention.Measure(untrained, null);
        output.WriteLine("analysis: lens, direct contributions");
        var lens = AffineLens.Measure(model, test);
        var contributions = AffineHeadContributions.Measure(model, test);
        output.WriteLine("analysis: ablations and activation patching");
        var ablations = AffineAblations.Measure(model, test);
        var patching = AffinePatching.Measure(model, test);
        var layerOne = model.Config.NLayers > 1 ? AffineLayerOne.Measure(model, test, lens, contributions, ablations) : null;
        var copyHeads = AffineCopyHeadRule.Check(contributions, ablations,
            attention.Heads.Where(h => h.Layer == AffineCopyHeadRule.Layer).Select(h => (h.AttentionToCurrent, h.AttentionToPrevious)).ToList());

        output.WriteLine("analysis: LLC");
        double trainLoss = run.TrainLoss();
        var llc = run.EstimateLlc(run.Recipe.Llc(run.Seed), trainLoss);
        Figures.Lines(Figure("llc_traces", "llc_traces.png"),
            llc.LossTraces.Select((trace, c) => Series.OverIndex($"chain {c}", trace))
                .Append(new Series("L(w*)", [0, llc.LossTraces[0].Length - 1], [trainLoss, trainLoss])).ToList(),
            $"SGLD loss traces (LLC {llc.Mean:F1} ± {llc.Std:F1})", "SGLD step", "minibatch MSE");
        LossCurves(folder, Figure("loss", "loss_curves.png"));
        return new AffineAnalysisResult(performance, attention, untrainedAttention, lens, contributions, ablations, patching, layerOne, copyHeads, llc, trainLoss, figures);
    }

    static void PerformanceFigures(AffineRun run, IReadOnlyList<PositionMse> performance, Func<string, string, string> figure)
    {
        var positions = Enumerable.Range(0, run.Task.Positions).Select(n => (double)n).ToArray();
        var all = performance[0];
        Figures.Lines(figure("mse", "mse_by_position.png"),
            [new Series("model", positions, all.Model), new Series("copy-last", positions, all.CopyLast), new Series("oracle", positions, Floor(all.Oracle))],
            "Test MSE per position (prediction of x_{n+1} at position n)", "position n", "mean squared error", logY: true);
        Figures.Lines(figure("mse_by_sign", "mse_by_sign_of_a.png"),
            performance.Skip(1).Select(p => new Series($"model, {p.Label}", positions, p.Model))
                .Concat(performance.Skip(1).Take(2).Select(p => new Series($"copy-last, {p.Label}", positions, p.CopyLast))).ToList(),
            "Test MSE per position, by sign and size of a", "position n", "mean squared error", logY: true);
    }

    /// <summary>The oracle's MSE is exactly 0 from position 2 on; a log axis needs a floor.</summary>
    static double[] Floor(double[] values) => values.Select(v => Math.Max(v, 1e-12)).ToArray();

    static void LossCurves(RunFolder folder, string path)
    {
        var table = MetricsTable.Read(folder.MetricsPath);
        var steps = table.Column("step");
        Figures.Lines(path,
            [new Series("train MSE", steps, table.Column("train_loss")), new Series("test MSE", steps, table.Column("val_mse")),
             new Series("test MSE from position 2", steps, table.Column("val_mse_from_2"))],
            "Loss", "step", "mean squared error", logX: true, logY: true);
    }
}
