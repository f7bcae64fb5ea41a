using Forge.Experiments.Plotting;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;
using Forge.Models.Training;

namespace Forge.Experiments.Sorting;

/// <summary>Everything the sorting analysis measured on one model.</summary>
public sealed record SortingAnalysisResult(ModeClassification Modes, AttentionOnData Attention, double AttentionAgreement,
    TokenMetrics Clean, AblationResult[] Ablations, LlcResult Llc, double TrainLoss, IReadOnlyDictionary<string, string> Figures);

/// <summary>
/// The analysis of a trained sorting model: LayerNorm-folded OV/QK/positional-QK circuits per head,
/// the mode label and vocabulary regions, attention on real lists, zero/mean ablations with a
/// reliability diagram, and the LLC with its loss traces. Writes the figures into the run folder.
/// </summary>
public static class SortingAnalysis
{
    public static SortingAnalysisResult Run(SortingRun training, RunFolder folder, TextWriter output)
    {
        var model = training.Model;
        var task = training.SortingRecipe.Task;
        int numbers = task.MaxValue + 1, heads = model.Config.NHeads;
        var figures = new Dictionary<string, string>();
        string Figure(string key, string file)
        {
            string path = folder.FigurePath(file);
            figures[key] = path;
            return path;
        }
        var labels = Enumerable.Range(0, task.Vocabulary).Select(t => t == task.Separator ? "SEP" : t.ToString()).ToArray();
        var positions = Enumerable.Range(0, task.Context).Select(p => p.ToString()).ToArray();

        output.WriteLine("analysis: circuits and mode");
        var circuits = Circuits.Of(model);
        Figures.HeatMapGrid(Figure("ov", "full_ov.png"), Panels(heads, h => circuits.FullOV(0, h), labels, labels),
            "Full OV circuit per head (LN folded): attended token → output logit", "output token", "attended token");
        Figures.HeatMapGrid(Figure("qk", "full_qk.png"), Panels(heads, h => circuits.FullQK(0, h), labels, labels),
            "Full QK circuit per head (LN folded): query token → key token", "key token", "query token");
        Figures.HeatMapGrid(Figure("pos_qk", "positional_qk.png"), Panels(heads, h => circuits.PositionalQK(0, h), positions, labels),
            "Positional QK per head: query position → key token", "key token", "query position");
        var modes = ModeClassifier.Classify(circuits, numbers);
        Figures.Lines(Figure("copy_scores", "copy_scores.png"),
            modes.Heads.Select(p => new Series($"head {p.Head}", Enumerable.Range(0, numbers).Select(t => (double)t).ToArray(), p.CopyScore)).ToList(),
            $"OV copy score per number (mode: {modes.Mode})", "number", "copy score (scaled)");

        output.WriteLine("analysis: attention on real lists");
        var attention = AttentionOnData.Measure(model, task, training.Validation, 2000);
        Figures.HeatMapGrid(Figure("patterns", "attention_patterns.png"),
            Enumerable.Range(0, heads).Select(h => new HeatMapPanel($"head {h}", ToDouble(attention.ExamplePatterns[h]),
                attention.ExampleTokens.Select(t => labels[t]).ToArray(), attention.ExampleTokens.Select(t => labels[t]).ToArray())).ToList(),
            "Attention patterns on a validation list", "key", "query", HeatMapScale.Probability);
        Figures.Lines(Figure("attention_to_target", "attention_to_target.png"),
            Enumerable.Range(0, heads).Select(h => new Series($"head {h}", Enumerable.Range(0, numbers).Select(v => (double)v).ToArray(),
                Enumerable.Range(0, numbers).Select(v => attention.AttentionToTarget[h, v]).ToArray())).ToList(),
            "Attention on the number to output next", "number to output", "mean attention weight");

        output.WriteLine("analysis: ablations");
        var (clean, ablations) = HeadAblations.Run(model, training.Validation, 1000);
        Figures.Bars(Figure("ablation_loss", "ablation_delta_loss.png"), Enumerable.Range(0, heads).Select(h => $"head {h}").ToArray(),
            [new BarSeries("zero", ablations.Where(a => a.Kind == "zero").Select(a => a.DeltaLoss).ToArray()),
             new BarSeries("mean", ablations.Where(a => a.Kind == "mean").Select(a => a.DeltaLoss).ToArray())],
            "Validation loss increase when a head is ablated", "Δ loss (nats)");
        Figures.Reliability(Figure("reliability", "reliability.png"),
            [Curve("clean", clean), .. ablations.Where(a => a.Kind == "mean").Select(a => Curve($"head {a.Head} mean-ablated", a.Metrics))],
            "Reliability diagram (validation)");

        output.WriteLine("analysis: LLC");
        double trainLoss = training.TrainLoss();
        var llc = training.EstimateLlc(training.Recipe.Llc(training.Seed), trainLoss);
        Figures.Lines(Figure("llc_traces", "llc_traces.png"),
            llc.LossTraces.Select((trace, c) => Series.OverIndex($"chain {c}", trace)).Append(
                new Series("L(w*)", [0, llc.LossTraces[0].Length - 1], [trainLoss, trainLoss])).ToList(),
            $"SGLD loss traces (LLC {llc.Mean:F1} ± {llc.Std:F1})", "SGLD step", "minibatch loss");
        LossCurves(folder, Figure("loss", "loss_curves.png"));
        return new SortingAnalysisResult(modes, attention, attention.AgreementWith(modes), clean, ablations, llc, trainLoss, figures);
    }

    static List<HeatMapPanel> Panels(int heads, Func<int, double[,]> matrix, string[] rows, string[] columns) =>
        Enumerable.Range(0, heads).Select(h => new HeatMapPanel($"head {h}", matrix(h), rows, columns)).ToList();

    static double[,] ToDouble(float[,] m)
    {
        var d = new double[m.GetLength(0), m.GetLength(1)];
        for (int i = 0; i < m.GetLength(0); i++) for (int j = 0; j < m.GetLength(1); j++) d[i, j] = m[i, j];
        return d;
    }

    static ReliabilityCurve Curve(string label, TokenMetrics m) => new(label,
        m.Reliability.Select(b => b.MeanConfidence).ToArray(), m.Reliability.Select(b => b.Accuracy).ToArray(), m.Reliability.Select(b => b.Count).ToArray());

    static void LossCurves(RunFolder folder, string path)
    {
        var table = MetricsTable.Read(folder.MetricsPath);
        var steps = table.Column("step");
        Figures.Lines(path,
            [new Series("train loss", steps, table.Column("train_loss")), new Series("validation loss", steps, table.Column("val_loss"))],
            "Loss", "step", "cross-entropy (nats)", logX: true, logY: true);
    }
}
