using System.Diagnostics;
using System.Text.Json.Nodes;
using Forge.Experiments.Affine;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

/// <summary>Every affine mechanism analysis runs on a briefly trained tiny model and writes its figures and numbers.</summary>
public class AffineAnalysesSmokeTests
{
    [Test]
    public void EveryPieceRunsAndWritesItsFigures()
    {
        var stopwatch = Stopwatch.StartNew();
        var recipe = new AffineRecipe
        {
            DModel = 8, Heads = 2, DHead = 4, DMlp = 16, Layers = 2, SequenceLength = 7, TestSize = 64, BatchSize = 32, WarmupSteps = 2,
        };
        var run = new AffineRun(recipe, seed: 1, steps: 10, CpuDevice.Instance);
        for (int step = 0; step < 10; step++) run.Step(step);

        using var temp = new TempFolder();
        using var folder = RunFolder.Open("affine", temp.Combine("run"), resume: false);
        var report = new ReportBuilder(folder.Root);
        var lens = AffineLens.Measure(run.Model, run.TestSet);
        lens.Report(report, folder);
        var contributions = AffineHeadContributions.Measure(run.Model, run.TestSet);
        contributions.Report(report, folder);
        var ablations = AffineAblations.Measure(run.Model, run.TestSet);
        ablations.Report(report, folder);
        var patching = AffinePatching.Measure(run.Model, run.TestSet);
        patching.Report(report, folder);
        var layerOne = AffineLayerOne.Measure(run.Model, run.TestSet, lens, contributions, ablations);
        layerOne.Report(report);
        var copyHeads = AffineCopyHeadRule.Check(contributions, ablations, AffineLayerOne.AttentionToRecent(run.Model, run.TestSet, AffineCopyHeadRule.Layer));
        AffineCopyHeadRule.Report(report, copyHeads);
        var numbers = new JsonObject
        {
            ["lens"] = lens.AnalysisNumbers(), ["head_contributions"] = contributions.AnalysisNumbers(), ["ablations"] = ablations.AnalysisNumbers(),
            ["patching"] = patching.AnalysisNumbers(), ["layer_one"] = layerOne.AnalysisNumbers(), ["copy_heads"] = AffineCopyHeadRule.AnalysisNumbers(copyHeads),
        };
        folder.WriteAnalysis("smoke", numbers);
        folder.WriteReport(report.ToString());
        TestContext.Out.WriteLine($"all pieces: {stopwatch.Elapsed.TotalSeconds:F1} s");

        string[] figures =
        [
            "lens_r2.png", "lens_mse.png", "lens_r2_by_position.png", "contribution_correlations.png", "contribution_sizes.png",
            "ablation_zero_heatmap.png", "ablation_mean_heatmap.png", "ablation_last_layer_a_pos.png", "ablation_last_layer_a_neg.png",
            "patching_patch_heatmap.png", "patching_last_layer_a_pos.png", "patching_last_layer_a_neg.png",
        ];
        foreach (var figure in figures)
            Assert.That(new FileInfo(folder.FigurePath(figure)).Length, Is.GreaterThan(1000), figure);
        string markdown = File.ReadAllText(folder.ReportPath);
        foreach (var figure in figures) Assert.That(markdown, Does.Contain("figures/" + figure));

        var json = JsonNode.Parse(File.ReadAllText(folder.AnalysisPath))!;
        Assert.That(json["lens"]!["stages"]!.AsArray().Select(s => (string)s!), Is.EqualTo(new[] { "embed", "L0 attn", "L0", "L1 attn", "L1" }));
        Assert.That((double)json["head_contributions"]!["components"]!["L1H0"]!["a_neg"]!["corr_correction"]!, Is.InRange(-1.0, 1.0), "per-head numbers by name");
        Assert.That((double)json["ablations"]!["targets"]!["L0H1"]!["zero"]!["all"]!["delta_mse_by_position"]!.AsArray().Count, Is.EqualTo(6));
        Assert.That((string)json["patching"]!["corruption"]!, Does.Contain("−a"));
        Assert.That(json["layer_one"]!["heads"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "L1H0", "L1H1" }));
        Assert.That((string)json["layer_one"]!["finding"]!, Does.StartWith("Layer 1 "));
        Assert.That(json["copy_heads"]!["heads"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "L0H0", "L0H1" }));
        Assert.That((double)json["copy_heads"]!["heads"]!["L0H1"]!["attention_to_current"]!, Is.InRange(0.0, 1.0));
    }
}
