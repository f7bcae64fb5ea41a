using System.Text.Json.Nodes;
using Forge.Experiments.Language;
using Forge.Experiments.TextData;
using Forge.Tests.TextData;
using static Forge.Tests.Reliability.CliHarness;

namespace Forge.Tests.Experiments;

/// <summary>
/// The language-model pipeline end to end on a tiny fake Brown corpus placed in a private cache (no network):
/// lm trains and analyses (held-out loss, coupling.json), analyze --development measures coupling over the
/// checkpoints, coupling measures a checkpoint on the run's own held-out data, and lm-sweep-report reads it all.
/// </summary>
[NonParallelizable]   // sets FORGE_CACHE for the process
public class LmSmokeTests
{
    [Test]
    public void TinyLanguageModelTrainsAnalysesAndReports()
    {
        using var temp = new TempFolder();
        string? previous = Environment.GetEnvironmentVariable(ForgeCache.Variable);
        try
        {
            Environment.SetEnvironmentVariable(ForgeCache.Variable, temp.Combine("cache"));
            FakeBrown.WriteFolder(temp.Combine("cache", "npm", BrownCorpus.Package.Id));
            string run = temp.Combine("runs", "lm");
            var trained = Run("lm", "--out", run, "--steps", "12", "--threads", "1", "--layers", "2", "--d-model", "16", "--heads", "2", "--d-head", "8",
                "--d-mlp", "32", "--context", "12", "--vocabulary", "40", "--val-windows", "4", "--coupling-prompts", "2", "--batch-size", "4",
                "--warmup-steps", "2", "--eval-every", "4", "--checkpoints", "linear:6", "--llc-chains", "1", "--llc-draws", "2", "--llc-burn-in", "1", "--llc-batch", "4");
            Assert.That(trained.Code, Is.EqualTo(0), trained.Err + trained.Out);
            var coupling = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "coupling.json")))!;
            Assert.That(coupling["coupling"]!["10"]!.AsArray(), Has.Count.EqualTo(2), "K = 10 fits d_model 16: a 2 × 2 matrix");
            Assert.That(coupling["singular_values"]!.AsArray(), Has.Count.EqualTo(2));
            var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "analysis.json")))!;
            Assert.That(analysis["val_loss"]!.GetValue<double>(), Is.GreaterThan(0));

            var development = Run("analyze", "--run", run, "--development", "--threads", "1");
            Assert.That(development.Code, Is.EqualTo(0), development.Err + development.Out);
            var points = JsonNode.Parse(File.ReadAllText(Path.Combine(run, LmDevelopment.DevelopmentFile)))!["points"]!.AsArray();
            Assert.That(points.Select(p => p!["step"]!.GetValue<long>()), Is.EqualTo(new long[] { 0, 6, 12 }), "step 0 is the initial weights");

            var measured = Run("coupling", "--checkpoint", Path.Combine(run, "checkpoints", "step-00000012.safetensors"), "--prompts", "2", "--out", temp.Combine("coupling"), "--threads", "1");
            Assert.That(measured.Code, Is.EqualTo(0), measured.Err + measured.Out);
            Assert.That(File.Exists(temp.Combine("coupling", "figures", "coupling_layers.png")));
            var tooLarge = Run("coupling", "--checkpoint", Path.Combine(run, "checkpoints", "step-00000012.safetensors"), "--k", "17", "--out", temp.Combine("coupling2"));
            Assert.That(tooLarge.Code, Is.EqualTo(2));
            Assert.That(tooLarge.Err, Does.Contain("--k 17 is larger than the model's d_model = 16"));

            var report = Run("lm-sweep-report", "--runs", temp.Combine("runs"), "--out", temp.Combine("report"));
            Assert.That(report.Code, Is.EqualTo(0), report.Err + report.Out);
            Assert.That(File.ReadAllLines(temp.Combine("report", LmSweepReport.CsvName)), Has.Length.EqualTo(2));
        }
        finally { Environment.SetEnvironmentVariable(ForgeCache.Variable, previous); }
    }
}
