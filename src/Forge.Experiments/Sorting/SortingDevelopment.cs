using System.Globalization;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;
using Forge.Models.Training;

namespace Forge.Experiments.Sorting;

/// <summary>One checkpoint of the development analysis.</summary>
public sealed record DevelopmentPoint(long Step, double ValLoss, double ValAccuracy, double TrainLoss, double Llc, double LlcStd, SortingMode Mode, int[] CopiedPerHead, double[] MeanCopyScorePerHead);

/// <summary>
/// The development analysis (claim 6): for every checkpoint of a run — log-spaced by default — the
/// validation loss and accuracy, the LLC with the run's fixed SGLD settings, the mode label and per-head
/// OV summaries; stage boundaries where the smoothed LLC curve changes the sign of its slope (in
/// log-step); and strips of OV circuits over time. Writes development.csv, figures and development.md.
/// </summary>
public static class SortingDevelopment
{
    /// <summary>Sequences used for the per-checkpoint losses (the full sets would dominate the run time).</summary>
    const int EvalLimit = 4096;

    public static IReadOnlyList<DevelopmentPoint> Run(RunFolder folder, SortingRun training, TextWriter output)
    {
        var steps = folder.CheckpointSteps();
        var points = new List<DevelopmentPoint>();
        var snapshots = new List<(long Step, Circuits Circuits)>();
        var validation = new TokenEvaluator<float>(training.Model, training.Validation, 1024);
        var train = new TokenEvaluator<float>(training.Model, training.Train, 1024);
        int numbers = training.SortingRecipe.MaxValue + 1;
        foreach (long step in steps)
        {
            training.LoadWeights(folder.CheckpointPath(step));
            var val = validation.Evaluate(EvalLimit);
            double trainLoss = train.Evaluate(EvalLimit).Loss;
            var llc = training.EstimateLlc(training.Recipe.Llc(training.Seed), trainLoss);
            var circuits = Circuits.Of(training.Model);
            var modes = ModeClassifier.Classify(circuits, numbers);
            points.Add(new DevelopmentPoint(step, val.Loss, val.Accuracy, trainLoss, llc.Mean, llc.Std, modes.Mode,
                modes.Heads.Select(h => h.Copies.Length).ToArray(), modes.Heads.Select(h => h.CopyScore.Average()).ToArray()));
            snapshots.Add((step, circuits));
            output.WriteLine($"  step {step,7}: val loss {val.Loss:F4}, acc {val.Accuracy:F4}, LLC {llc.Mean,7:F1} ± {llc.Std:F1}, {modes.Mode}");
        }
        var boundaries = StageBoundaries(points);
        WriteCsv(folder, points);
        var figures = BuildFigures(folder, points, snapshots, training.Model.Config.NHeads, numbers);
        WriteReport(folder, training, points, boundaries, figures);
        return points;
    }

    /// <summary>Steps where the LLC, smoothed over 3 neighbouring checkpoints, turns from rising to falling or back.</summary>
    public static long[] StageBoundaries(IReadOnlyList<DevelopmentPoint> points)
    {
        if (points.Count < 4) return [];
        var smooth = SmoothedLlc(points);
        var boundaries = new List<long>();
        int previousSign = 0;
        for (int i = 1; i < smooth.Length; i++)
        {
            int sign = Math.Sign(smooth[i] - smooth[i - 1]);
            if (sign != 0 && previousSign != 0 && sign != previousSign) boundaries.Add(points[i - 1].Step);
            if (sign != 0) previousSign = sign;
        }
        return [.. boundaries];
    }

    /// <summary>The LLC averaged with its neighbouring checkpoints (the first with its successor only, the last with its predecessor).</summary>
    public static double[] SmoothedLlc(IReadOnlyList<DevelopmentPoint> points) =>
        points.Select((_, i) => points.Skip(Math.Max(0, i - 1)).Take(i == 0 ? 2 : 3).Average(p => p.Llc)).ToArray();

    static void WriteCsv(RunFolder folder, IReadOnlyList<DevelopmentPoint> points)
    {
        int heads = points[0].CopiedPerHead.Length;
        var header = "step,val_loss,val_acc,train_loss,llc,llc_std,mode," + string.Join(',', Enumerable.Range(0, heads).Select(h => $"copied_h{h},copy_score_h{h}"));
        var lines = points.Select(p => string.Join(',', new object[] { p.Step, p.ValLoss, p.ValAccuracy, p.TrainLoss, p.Llc, p.LlcStd, p.Mode }
            .Concat(Enumerable.Range(0, heads).SelectMany(h => new object[] { p.CopiedPerHead[h], p.MeanCopyScorePerHead[h] }))
            .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.csv"), string.Join('\n', lines.Prepend(header)) + "\n");
    }

    static Dictionary<string, string> BuildFigures(RunFolder folder, IReadOnlyList<DevelopmentPoint> points, List<(long Step, Circuits Circuits)> snapshots, int heads, int numbers)
    {
        var x = points.Select(p => (double)p.Step).ToArray();
        var figures = new Dictionary<string, string>
        {
            ["loss"] = folder.FigurePath("development_loss.png"),
            ["llc"] = folder.FigurePath("development_llc.png"),
            ["copies"] = folder.FigurePath("development_copies.png"),
        };
        Figures.Lines(figures["loss"], [new Series("validation loss", x, points.Select(p => p.ValLoss).ToArray()), new Series("train loss", x, points.Select(p => p.TrainLoss).ToArray())],
            "Loss over training", "step", "cross-entropy (nats)", logX: true, logY: true);
        Figures.Lines(figures["llc"], [new Series("LLC", x, points.Select(p => p.Llc).ToArray())], "LLC over training", "step", "λ̂", logX: true);
        Figures.Lines(figures["copies"], Enumerable.Range(0, heads).Select(h => new Series($"head {h}", x, points.Select(p => (double)p.CopiedPerHead[h]).ToArray())).ToList(),
            "Numbers copied per head (OV copy score > threshold)", "step", "numbers copied", logX: true);
        var shown = Enumerable.Range(0, 6).Select(i => snapshots[(int)Math.Round(i * (snapshots.Count - 1) / 5.0)]).Distinct().ToList();
        for (int h = 0; h < heads; h++)
        {
            string path = folder.FigurePath($"development_ov_head{h}.png");
            figures[$"ov{h}"] = path;
            Figures.HeatMapGrid(path, shown.Select(s => new HeatMapPanel($"step {s.Step}", Crop(s.Circuits.FullOV(0, h), numbers))).ToList(),
                $"Head {h}: full OV circuit over training (own colour scale per panel)", "output number", "attended number", sharedScale: false);
        }
        return figures;
    }

    static double[,] Crop(double[,] m, int n)
    {
        var c = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) c[i, j] = m[i, j];
        return c;
    }

    static void WriteReport(RunFolder folder, SortingRun training, IReadOnlyList<DevelopmentPoint> points, long[] boundaries, Dictionary<string, string> figures)
    {
        var r = training.SortingRecipe;
        var report = new ReportBuilder(folder.Root).Heading("Development over training", 1)
            .Paragraph($"{points.Count} checkpoints; validation metrics on the first {EvalLimit} validation lists; LLC with the run's fixed settings " +
                       $"({r.LlcChains} chains × ({r.LlcBurnIn} + {r.LlcDraws}), ε = {r.LlcEpsilon}, γ = {r.LlcGamma}, batch {r.LlcBatchSize}).")
            .Paragraph(boundaries.Length == 0 ? "No stage boundary: the smoothed LLC never changes the sign of its slope."
                : $"Stage boundaries (smoothed LLC changes slope sign) after steps {string.Join(", ", boundaries)} → {boundaries.Length + 1} stages.")
            .Table(["step", "val loss", "val acc", "LLC", "mode", "copied per head"], points.Select(p => (IReadOnlyList<object?>)new object?[]
                { p.Step, p.ValLoss.ToString("F4", CultureInfo.InvariantCulture), p.ValAccuracy.ToString("F4", CultureInfo.InvariantCulture),
                  $"{p.Llc.ToString("F1", CultureInfo.InvariantCulture)} ± {p.LlcStd.ToString("F1", CultureInfo.InvariantCulture)}", p.Mode, string.Join(" / ", p.CopiedPerHead) }));
        foreach (var (key, caption) in new[] { ("loss", "Loss"), ("llc", "LLC"), ("copies", "Numbers copied per head") }) report.Figure(figures[key], caption);
        foreach (var key in figures.Keys.Where(k => k.StartsWith("ov"))) report.Figure(figures[key], $"OV circuit of head {key[2..]} over training");
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.md"), report.ToString());
    }
}
