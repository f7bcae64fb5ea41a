using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Coupling;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Language;

/// <summary>One checkpoint of the training-dynamics analysis.</summary>
public sealed record LmDevelopmentPoint(long Step, double ValLoss, IReadOnlyDictionary<int, double> Coupling, double LineShape, double NormSlope, double NormR2, double StepR2);

/// <summary>
/// The coupling paper's third claim over one run's checkpoints (<c>analyze --run DIR --development</c>): at every
/// checkpoint the held-out loss, the coupling scalar per K, the line-shape score and the growth fit, on a few
/// held-out prompts (cheaper than the final analysis: 4 prompts, 4 positions). Step 0 is the run's own
/// initial weights. Writes development.csv, development.json, figures and development.md.
/// </summary>
public static class LmDevelopment
{
    public const string DevelopmentFile = "development.json";
    const int Prompts = 4;
    const int ValWindows = 128;

    public static IReadOnlyList<LmDevelopmentPoint> Run(RunFolder folder, LmRun run, TextWriter output)
    {
        var r = run.LmRecipe;
        var prompts = run.HeldOutPrompts(Prompts)!;
        var options = new CouplingOptions(CouplingCommand.ParseKs(null, r.DModel), CouplingCommand.ParsePositions("spread:4", r.Context), r.Layers / 2);
        var evaluator = new TokenEvaluator<float>(run.Model, run.Validation, LmRun.EvalBatch);
        var points = new List<LmDevelopmentPoint>();
        var initial = run.InitialModel();
        points.Add(Measure(0, initial, new TokenEvaluator<float>(initial, run.Validation, LmRun.EvalBatch), prompts, options));
        output.WriteLine(Line(points[^1]));
        foreach (long step in folder.CheckpointSteps())
        {
            run.LoadWeights(folder.CheckpointPath(step));
            points.Add(Measure(step, run.Model, evaluator, prompts, options));
            output.WriteLine(Line(points[^1]));
        }
        Write(folder, points, options.Ks);
        return points;
    }

    static LmDevelopmentPoint Measure(long step, Transformer<float> model, TokenEvaluator<float> evaluator, IReadOnlyList<int[]> prompts, CouplingOptions options)
    {
        var loss = evaluator.Evaluate(ValWindows).Loss;
        var c = CouplingMeasurement.Measure(model.Cast<double>(), prompts, options);
        return new LmDevelopmentPoint(step, loss, c.Scalar, c.MeanLineShape, c.Mean(t => t.NormSlope), c.Mean(t => t.NormR2), c.Mean(t => t.StepR2));
    }

    static string Line(LmDevelopmentPoint p) =>
        $"  step {p.Step,7}: held-out loss {p.ValLoss:F4}, coupling {string.Join(" / ", p.Coupling.Select(e => $"K{e.Key} {e.Value:F3}"))}, line shape {p.LineShape:F3}";

    static void Write(RunFolder folder, IReadOnlyList<LmDevelopmentPoint> points, IReadOnlyList<int> ks)
    {
        var csv = new List<string> { "step,val_loss," + string.Join(',', ks.Select(k => $"coupling_k{k}")) + ",line_shape,norm_slope,norm_r2,step_r2" };
        csv.AddRange(points.Select(p => string.Join(',', new double[] { p.Step, p.ValLoss }.Concat(ks.Select(k => p.Coupling[k]))
            .Concat([p.LineShape, p.NormSlope, p.NormR2, p.StepR2]).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.csv"), string.Join('\n', csv) + "\n");

        // Step 0 cannot sit on a log axis: the figures start at the first checkpoint and state the initial value in the legend.
        var later = points.Skip(1).ToList();
        var x = later.Select(p => (double)p.Step).ToArray();
        string coupling = folder.FigurePath("development_coupling.png"), shape = folder.FigurePath("development_line_shape.png");
        Figures.Lines(coupling, ks.Select(k => new Series($"K = {k} (at init {points[0].Coupling[k]:F3})", x, later.Select(p => p.Coupling[k]).ToArray())).ToList(),
            "Coupling scalar over training", "step", "mean 1 − m_K between blocks", logX: true);
        Figures.Lines(shape, [new Series($"line shape score (at init {points[0].LineShape:F2})", x, later.Select(p => p.LineShape).ToArray()),
                new Series($"R² of log‖x^l‖ on l (at init {points[0].NormR2:F2})", x, later.Select(p => p.NormR2).ToArray())],
            "Trajectory linearity and growth over training", "step", "score", logX: true);
        var report = new ReportBuilder(folder.Root).Heading("Coupling over training", 1)
            .Paragraph($"{points.Count} points (step 0 = the run's initial weights, then every checkpoint); {Prompts} held-out prompts, 4 positions each; held-out loss on {ValWindows} windows.")
            .Table(["step", "held-out loss", .. ks.Select(k => $"coupling K = {k}"), "line shape", "log-norm slope", "its R²"],
                points.Select(p => (IReadOnlyList<object?>)[p.Step, F(p.ValLoss), .. ks.Select(k => (object?)F(p.Coupling[k])), F(p.LineShape), F(p.NormSlope), F(p.NormR2)]))
            .Figure(coupling, "Coupling over training").Figure(shape, "Line shape and growth over training");
        AtomicFile.WriteAllText(Path.Combine(folder.Root, "development.md"), report.ToString());
        var json = new JsonObject
        {
            ["points"] = new JsonArray(points.Select(p => (JsonNode?)new JsonObject
            {
                ["step"] = p.Step, ["val_loss"] = Number(p.ValLoss), ["line_shape"] = Number(p.LineShape), ["norm_slope"] = Number(p.NormSlope), ["norm_r2"] = Number(p.NormR2),
                ["coupling"] = new JsonObject(ks.Select(k => KeyValuePair.Create(k.ToString(CultureInfo.InvariantCulture), Number(p.Coupling[k])))),
            }).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(folder.Root, DevelopmentFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
}
