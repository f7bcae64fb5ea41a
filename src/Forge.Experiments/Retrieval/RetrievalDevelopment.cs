using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Training;

namespace Forge.Experiments.Retrieval;

/// <summary>One checkpoint of the emergence analysis.</summary>
public sealed record EmergencePoint(long Step, double[] AccuracyByHops, double ValLoss, double[,,] Scores, double Llc, double LlcStd);

/// <summary>When a hop's head arrived: the first checkpoint at which its score passed half-way from its first-checkpoint value to its final value.</summary>
public sealed record HeadEmergence(int Layer, int Head, int Hop, double FinalScore, long Step)
{
    public string Name => $"L{Layer}H{Head}";
}

/// <summary>
/// The emergence analysis (<c>analyze --run DIR --development</c>): at every checkpoint, held-out accuracy
/// per number of look-ups, the loss at full depth, every head's score per hop (<see cref="RetrievalHeads"/>)
/// and the LLC with the run's settings; then the emergence step of each hop's head (the first checkpoint
/// past half-way from its first to its final score) and their order. Writes development.csv, figures and development.md.
/// </summary>
public static class RetrievalDevelopment
{
    /// <summary>The emergence steps and the LLC per checkpoint, for the sweep report.</summary>
    public const string DevelopmentFile = "development.json";

    /// <summary>Held-out examples per checkpoint (per number of look-ups).</summary>
    const int EvalLimit = 512;

    public static IReadOnlyList<HeadEmergence> Run(RunFolder folder, RetrievalRun run, TextWriter output)
    {
        var task = run.Task;
        var points = new List<EmergencePoint>();
        var evaluators = run.ByHops.Select(set => new TokenEvaluator<float>(run.Model, set, RetrievalRun.EvalBatch)).ToArray();
        foreach (long step in folder.CheckpointSteps())
        {
            run.LoadWeights(folder.CheckpointPath(step));
            var metrics = evaluators.Select(e => e.Evaluate(EvalLimit)).ToArray();
            var heads = RetrievalHeads.Measure(run.Model, task, run.ByHops[^1], EvalLimit);
            double trainLoss = run.TrainLoss();
            var llc = run.EstimateLlc(run.Recipe.Llc(run.Seed), trainLoss);
            var scores = new double[heads.Layers, heads.Heads, heads.Hops];
            for (int l = 0; l < heads.Layers; l++) for (int h = 0; h < heads.Heads; h++) for (int k = 0; k < heads.Hops; k++) scores[l, h, k] = heads.Score(l, h, k);
            points.Add(new EmergencePoint(step, metrics.Select(m => m.Accuracy).ToArray(), metrics[^1].Loss, scores, llc.Mean, llc.Std));
            output.WriteLine($"  step {step,7}: accuracy by look-ups {string.Join(" / ", metrics.Select(m => m.Accuracy.ToString("F3", CultureInfo.InvariantCulture)))}, " +
                             $"loss {metrics[^1].Loss:F4}, LLC {llc.Mean:F1} ± {llc.Std:F1}");
        }
        var emergence = Emergence(points);
        Write(folder, run, points, emergence);
        return emergence;
    }

    /// <summary>
    /// For every (head, hop) at or above the threshold at the last checkpoint: the first checkpoint at which its
    /// score passed half-way from its value at the first checkpoint to its final value, in order of arrival.
    /// </summary>
    public static IReadOnlyList<HeadEmergence> Emergence(IReadOnlyList<EmergencePoint> points)
    {
        if (points.Count == 0) return [];
        var last = points[^1].Scores;
        var found = new List<HeadEmergence>();
        for (int l = 0; l < last.GetLength(0); l++)
            for (int h = 0; h < last.GetLength(1); h++)
                for (int k = 0; k < last.GetLength(2); k++)
                {
                    double final = last[l, h, k];
                    if (final < RetrievalHeads.HeadThreshold) continue;
                    double halfway = (points[0].Scores[l, h, k] + final) / 2;
                    long step = points.First(p => p.Scores[l, h, k] >= halfway).Step;
                    found.Add(new HeadEmergence(l, h, k + 1, final, step));
                }
        return found.OrderBy(e => e.Step).ThenBy(e => e.Layer).ThenBy(e => e.Hop).ToList();
    }

    static void Write(RunFolder folder, RetrievalRun run, IReadOnlyList<EmergencePoint> points, IReadOnlyList<HeadEmergence> emergence)
    {
        int hops = run.RetrievalRecipe.Depth;
        var csv = new List<string> { "step,val_loss,llc,llc_std," + string.Join(',', Enumerable.Range(1, hops).Select(h => $"acc_hops_{h}")) +
                                     string.Concat(emergence.Select(e => $",score_{e.Name}_hop{e.Hop}")) };
        foreach (var p in points)
            csv.Add(string.Join(',', new double[] { p.Step, p.ValLoss, p.Llc, p.LlcStd }.Concat(p.AccuracyByHops)
                .Concat(emergence.Select(e => p.Scores[e.Layer, e.Head, e.Hop - 1])).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.csv"), string.Join('\n', csv) + "\n");

        var x = points.Select(p => (double)p.Step).ToArray();
        string accuracy = folder.FigurePath("development_accuracy.png"), scores = folder.FigurePath("development_head_scores.png"), llc = folder.FigurePath("development_llc.png");
        Figures.Lines(accuracy, Enumerable.Range(0, hops).Select(h => new Series($"{h + 1} look-up{(h > 0 ? "s" : "")}", x, points.Select(p => p.AccuracyByHops[h]).ToArray())).ToList(),
            "Held-out accuracy over training", "step", "accuracy", logX: true);
        Figures.Lines(scores, emergence.Select(e => new Series($"{e.Name}, hop {e.Hop}", x, points.Select(p => p.Scores[e.Layer, e.Head, e.Hop - 1]).ToArray())).ToList(),
            "Retrieval score of each hop's head over training", "step", "score (attention on the token the hop needs)", logX: true);
        Figures.Lines(llc, [new Series("LLC", x, points.Select(p => p.Llc).ToArray())], "LLC over training", "step", "λ̂", logX: true);

        var report = new ReportBuilder(folder.Root).Heading("Emergence over training", 1)
            .Paragraph($"{points.Count} checkpoints; accuracies and head scores on the first {EvalLimit} held-out examples of each number of look-ups. " +
                       $"A head is the head of hop k when its score for k reaches {RetrievalHeads.HeadThreshold} at the last checkpoint; it emerged at the first checkpoint " +
                       "where its score passed half-way from its first-checkpoint value to its final value.")
            .Table(["order", "head", "hop", "final score", "emerged at step"], emergence.Select((e, i) => (IReadOnlyList<object?>)
                [i + 1, e.Name, e.Hop, e.FinalScore.ToString("F3", CultureInfo.InvariantCulture), e.Step]))
            .Figure(accuracy, "Accuracy per number of look-ups").Figure(scores, "Head scores").Figure(llc, "LLC");
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.md"), report.ToString());
        var json = new JsonObject
        {
            ["checkpoints"] = points.Count,
            ["emergence"] = new JsonArray(emergence.Select(e => (JsonNode?)new JsonObject
                { ["head"] = e.Name, ["layer"] = e.Layer, ["hop"] = e.Hop, ["final_score"] = e.FinalScore, ["step"] = e.Step }).ToArray()),
            ["llc"] = new JsonArray(points.Select(p => (JsonNode?)new JsonObject
                { ["step"] = p.Step, ["mean"] = p.Llc, ["std"] = p.LlcStd, ["val_loss"] = p.ValLoss }).ToArray()),
        };
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(folder.Root, DevelopmentFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
