using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Tests.Experiments;

namespace Forge.Tests.Framework;

/// <summary>The generic experiment command: config.json given back as --config, resume that keeps the run's recipe, the NaN stop.</summary>
public class ExperimentCommandTests
{
    FakeExperiment _fake = null!;
    TempFolder _temp = null!;

    [SetUp]
    public void SetUp() => (_fake, _temp) = (new FakeExperiment(), new TempFolder());

    [TearDown]
    public void TearDown() => _temp.Dispose();

    (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, new CommandRegistry().Register(_fake), output, error);
        return (code, output.ToString(), error.ToString());
    }

    static void AssertUsageError((int Code, string Out, string Err) result, params string[] mustContain)
    {
        Assert.That(result.Code, Is.EqualTo(2), result.Err + result.Out);
        Assert.That(result.Err.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), result.Err);
        foreach (var text in mustContain) Assert.That(result.Err, Does.Contain(text));
    }

    [Test]
    public void ARunsOwnConfigJsonGivenBackAsConfigReproducesTheRun()
    {
        string first = _temp.Combine("first"), second = _temp.Combine("second");
        Assert.That(Run("fake", "--out", first, "--seed", "11", "--steps", "30", "--heads", "6", "--range", "-3,2", "--no-widget", "--no-analysis").Code, Is.EqualTo(0));
        var firstRecipe = _fake.Recipe;
        var result = Run("fake", "--out", second, "--config", Path.Combine(first, "config.json"), "--no-analysis");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That((_fake.Recipe, _fake.Seed, _fake.Steps), Is.EqualTo((firstRecipe, 11UL, 30)));
        var a = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "config.json")))!.AsObject();
        var b = JsonNode.Parse(File.ReadAllText(Path.Combine(second, "config.json")))!.AsObject();
        a.Remove("config_file");
        b.Remove("config_file");
        Assert.That(b.ToJsonString(), Is.EqualTo(a.ToJsonString()), "the same config.json apart from config_file");
        Assert.That(Run("fake", "--out", _temp.Combine("third"), "--config", Path.Combine(first, "config.json"), "--seed", "12", "--no-analysis").Code, Is.EqualTo(0));
        Assert.That(_fake.Seed, Is.EqualTo(12UL), "an option given beats the file's common keys too");
    }

    [Test]
    public void AConfigOfAnotherExperimentIsRefused()
    {
        string path = _temp.Combine("other.json");
        File.WriteAllText(path, """{ "experiment": "sorting", "seed": 1 }""");
        AssertUsageError(Run("fake", "--out", _temp.Combine("x"), "--config", path), "'sorting' experiment");
        Assert.That(Directory.Exists(_temp.Combine("x")), Is.False, "nothing written");
    }

    [Test]
    public void ResumeKeepsTheRunsRecipeAndRefusesToChangeIt()
    {
        string dir = _temp.Combine("run");
        Assert.That(Run("fake", "--out", dir, "--steps", "20", "--heads", "3", "--checkpoints", "linear:5", "--no-analysis").Code, Is.EqualTo(0));
        File.Delete(Path.Combine(dir, "summary.json"));
        File.Delete(Path.Combine(dir, "checkpoints", "step-00000020.safetensors"));

        AssertUsageError(Run("fake", "--out", dir, "--resume", "--heads", "4"), "heads is 3 there, not 4");
        AssertUsageError(Run("fake", "--out", dir, "--resume", "--seed", "5"), "seed 0, not 5");
        AssertUsageError(Run("fake", "--out", dir, "--resume", "--steps", "10"), "below the run's latest checkpoint (step 15)");
        string config = File.ReadAllText(Path.Combine(dir, "config.json"));

        var resumed = Run("fake", "--out", dir, "--resume", "--heads", "3", "--no-analysis");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("resuming from checkpoints/step-00000015.safetensors"));
        Assert.That((_fake.Recipe!.Heads, _fake.Steps), Is.EqualTo((3, 20)));
        Assert.That(File.ReadAllText(Path.Combine(dir, "config.json")), Is.EqualTo(config));

        AssertUsageError(Run("fake", "--out", dir, "--resume", "--steps", "18"), "below the run's latest checkpoint (step 20)");
        Assert.That(Run("fake", "--out", dir, "--resume", "--steps", "25", "--no-analysis").Code, Is.EqualTo(0), "a finished run may be extended");
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!["steps"]!.GetValue<int>(), Is.EqualTo(25));
    }

    [Test]
    public void ANaNLossStopsWithOneLineNamingTheStepAndTheLastGoodCheckpoint()
    {
        string dir = _temp.Combine("nan");
        _fake.DivergeAt = 12;   // the 13th step in metrics.csv's numbering
        var result = Run("fake", "--out", dir, "--steps", "20", "--checkpoints", "linear:5");
        AssertUsageError(result, "at step 13", "last good checkpoint is step 10");
        Assert.That(File.Exists(Path.Combine(dir, "summary.json")), Is.False);

        _fake.DivergeAt = 0;
        AssertUsageError(Run("fake", "--out", _temp.Combine("nan0"), "--steps", "20"), "at step 1", "no checkpoint was written before it");
    }

    [Test]
    public void TheMetricsAndSummaryFollowTheLoop()
    {
        string dir = _temp.Combine("loop");
        var result = Run("fake", "--out", dir, "--steps", "120", "--eval-every", "40");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        var metrics = MetricsTable.Read(Path.Combine(dir, "metrics.csv"));
        Assert.That(metrics.Column("step"), Is.EqualTo(new double[] { 1, 40, 50, 80, 100, 120 }), "step 1, every 50, every evaluation, the last");
        Assert.That(metrics.Column("val_loss"), Is.EqualTo(new[] { double.NaN, 0.5, double.NaN, 0.5, double.NaN, 0.5 }));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
        Assert.That((summary["steps"]!.GetValue<int>(), summary["final_train_loss"]!.GetValue<double>(), summary["val_loss"]!.GetValue<double>()),
            Is.EqualTo((120, 1.0 / 120, 0.5)));
        var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFolder.AnalysisFileName)))!.AsObject();
        Assert.That((analysis["headline"]!.GetValue<string>(), analysis["answer"]!.GetValue<int>()), Is.EqualTo(("fake analysed", 42)));
    }
}
