using System.Text.Json.Nodes;
using Forge.Experiments.Affine;
using Forge.Experiments.Runs;
using static Forge.Tests.Reliability.CliHarness;

namespace Forge.Tests.Experiments;

/// <summary>The affine command end to end at toy size: run folder, summary.json's arrays, report, resume; bad ranges refused.</summary>
public class AffineCommandTests
{
    static readonly string[] Tiny =
    [
        "--sequence-length", "6", "--layers", "2", "--heads", "2", "--d-model", "8", "--d-head", "4", "--d-mlp", "16", "--batch-size", "16",
        "--test-size", "64", "--warmup-steps", "5", "--eval-every", "10", "--checkpoints", "linear:10",
        "--llc-chains", "1", "--llc-draws", "3", "--llc-burn-in", "1", "--llc-batch", "8",
    ];

    [Test]
    public void AToyRunWritesTheSummaryArraysTheReportAndAnalysisJson()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        var result = Run(["affine", "--out", dir, "--steps", "20", .. Tiny]);
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
        Assert.That(summary["val_mse"]!.GetValue<double>(), Is.GreaterThan(0));
        Assert.That(summary["test_mse_by_position"]!.AsArray(), Has.Count.EqualTo(5), "one value per predicted position (L − 1)");
        Assert.That(summary["copy_last_mse_by_position"]!.AsArray(), Has.Count.EqualTo(5));
        var oracle = summary["oracle_mse_by_position"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.That(oracle.Skip(2), Has.All.LessThan(1e-12), "the oracle is exact from position 2 on");

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.That(config["a"]!.ToJsonString(), Is.EqualTo("[-1,1]"), "ranges are written as [min, max]");
        var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFolder.AnalysisFileName)))!.AsObject();
        foreach (var key in new[] { "copy_heads", "negative_similarity_heads", "learned_negative_similarity_heads", "ratio_to_copy_last_by_position", "attention", "lens", "ablations", "patching" })
            Assert.That(analysis.ContainsKey(key), key);
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.That(report, Does.Contain("| claim | verdict | evidence |").And.Contain("1. A 3-layer").And.Contain("3. Layer 2 refines"));
        Assert.That(Directory.GetFiles(Path.Combine(dir, "figures"), "*.png"), Has.Length.GreaterThanOrEqualTo(10));
    }

    [Test]
    public void ResumingGivesTheNumbersOfAnUninterruptedRun()
    {
        using var temp = new TempFolder();
        string whole = temp.Combine("whole"), split = temp.Combine("split");
        Assert.That(Run(["affine", "--out", whole, "--steps", "20", "--no-analysis", .. Tiny]).Code, Is.EqualTo(0));
        Assert.That(Run(["affine", "--out", split, "--steps", "20", "--no-analysis", .. Tiny]).Code, Is.EqualTo(0));
        File.Delete(Path.Combine(split, "summary.json"));
        File.Delete(Path.Combine(split, "checkpoints", "step-00000020.safetensors"));
        Assert.That(Run("affine", "--out", split, "--resume", "--no-analysis").Code, Is.EqualTo(0));
        Assert.That(File.ReadAllText(Path.Combine(split, "metrics.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, "metrics.csv"))));
    }

    [TestCase("--a", "1,-1", "MIN ≤ MAX")]
    [TestCase("--b", "x", "'x'")]
    [TestCase("--sequence-length", "2", "'2'")]
    public void BadRangesAndLengthsAreOneLineErrors(string option, string value, string mention)
    {
        using var temp = new TempFolder();
        var result = Run("affine", "--out", temp.Combine("never"), option, value);
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(result.Err, Does.Contain(option).And.Contain(mention));
        Assert.That(Directory.Exists(temp.Combine("never")), Is.False);
    }

    [Test]
    public void TheOracleIsExactFromPosition2AndThePosteriorMeanBefore()
    {
        var task = new AffineRecipe().Task;
        var terms = new double[6];
        var rng = new Rng(5);
        for (int trial = 0; trial < 100; trial++)
        {
            task.Sample(rng, terms);
            for (int n = 2; n < 5; n++) Assert.That(task.Oracle(terms, n), Is.EqualTo(terms[n + 1]).Within(1e-9));
        }
        // n = 1 with x_0 = 0.5, x_1 = 0.2: b = 0.2 − 0.5a ∈ [−1, 1] for every a ∈ [−1, 1], so E[a] = 0 and the prediction is x_1.
        Assert.That(task.PosteriorMean([0.5, 0.2], 1), Is.EqualTo(0.2).Within(1e-12));
        // x_0 = 0.5, x_1 = 0.9: b = 0.9 − 0.5a ≥ −1 holds, b ≤ 1 needs a ≥ −0.2: a ~ U[−0.2, 1], E[a] = 0.4: 0.9 + 0.4·0.4.
        Assert.That(task.PosteriorMean([0.5, 0.9], 1), Is.EqualTo(1.06).Within(1e-12));
        // x_0 = 1, x_1 = 1.5: b = 1.5 − a ≤ 1 needs a ≥ 0.5, so a ~ U[0.5, 1], E[a] = 0.75: 1.5 + 0.75·0.5.
        Assert.That(task.PosteriorMean([1, 1.5], 1), Is.EqualTo(1.875).Within(1e-12));
        Assert.That(task.PosteriorMean([0.7], 0), Is.EqualTo(0).Within(1e-12), "E[a]·x_0 + E[b] with symmetric ranges");
    }
}
