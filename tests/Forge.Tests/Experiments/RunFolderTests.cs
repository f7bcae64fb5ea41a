using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

/// <summary>Run folder layout, refusal to clobber, resume, config.json and summary.json.</summary>
public class RunFolderTests
{
    TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder();
    [TearDown] public void TearDown() => _temp.Dispose();

    static CommonSettings Settings(string? outDir = null, bool resume = false) =>
        new(outDir, Seed: 5, Steps: 100, Device: "cpu", Threads: 2, ConfigPath: null, Config: null, Resume: resume);

    sealed record SortingSettings(int ListLength, int MaxValue, double WeightDecay, int? DMlp);

    [Test]
    public void Open_CreatesLayout()
    {
        var run = RunFolder.Open("sorting", _temp.Combine("run"), resume: false);
        Assert.That(Directory.Exists(run.CheckpointsFolder) && Directory.Exists(run.FiguresFolder));
        Assert.That(run.CheckpointPath(1200), Is.EqualTo(Path.Combine(run.Root, "checkpoints", "step-00001200.safetensors")));
        Assert.That(RunFolder.CheckpointFileName(0), Is.EqualTo("step-00000000.safetensors"));
        Assert.That(run.FigurePath("ov-circuits"), Is.EqualTo(Path.Combine(run.Root, "figures", "ov-circuits.png")));
        Assert.That(run.RelativePath(run.FigurePath("loss")), Is.EqualTo("figures/loss.png"));
        Assert.That(run.IsResumed || run.IsFinished, Is.False);
    }

    [Test]
    public void Open_DefaultName_IsExperimentAndTimestamp_UniqueWithinASecond()
    {
        var now = new DateTime(2025, 3, 4, 5, 6, 7);
        string runs = _temp.Combine("runs");
        var first = RunFolder.Open("sorting", null, resume: false, now, runs);
        var second = RunFolder.Open("sorting", null, resume: false, now, runs);
        Assert.That(Path.GetFileName(first.Root), Is.EqualTo("sorting-20250304-050607"));
        Assert.That(Path.GetFileName(second.Root), Is.EqualTo("sorting-20250304-050607-2"));
    }

    [Test]
    public void Open_RefusesFinishedRun_WithoutResume_AndDestroysNothing()
    {
        string dir = _temp.Combine("run");
        var run = RunFolder.Open("sorting", dir, resume: false);
        run.WriteConfig(Settings(dir), null);
        run.WriteSummary(new RunSummary(100, 2.0, 0.1));
        string summaryBefore = File.ReadAllText(run.SummaryPath);
        run.Dispose();

        var error = Assert.Throws<UsageException>(() => RunFolder.Open("sorting", dir, resume: false))!;
        Assert.That(error.Message, Does.Contain("finished run").And.Contain("--resume").And.Contain(dir));
        Assert.That(File.ReadAllText(run.SummaryPath), Is.EqualTo(summaryBefore));
    }

    [Test]
    public void Open_RefusesUnfinishedRun_WithoutResume()
    {
        string dir = _temp.Combine("run");
        var run = RunFolder.Open("sorting", dir, resume: false);
        using (var log = run.OpenMetrics([])) log.Append(1, 1e-3, 3.9);
        run.Dispose();
        var error = Assert.Throws<UsageException>(() => RunFolder.Open("sorting", dir, resume: false))!;
        Assert.That(error.Message, Does.Contain("unfinished run").And.Contain("metrics.csv"));
    }

    [Test]
    public void Open_AcceptsFolderWithOnlyUnrelatedFiles()
    {
        string dir = _temp.Combine("run");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        Assert.DoesNotThrow(() => RunFolder.Open("sorting", dir, resume: false));
        Assert.That(File.ReadAllText(Path.Combine(dir, "notes.txt")), Is.EqualTo("mine"));
    }

    [Test]
    public void Open_Resume_NeedsAnExistingRun()
    {
        Assert.Throws<UsageException>(() => RunFolder.Open("sorting", _temp.Combine("nothing"), resume: true));
        Assert.Throws<UsageException>(() => RunFolder.Open("sorting", null, resume: true));
    }

    [Test]
    public void Open_Resume_ReopensFinishedRun()
    {
        string dir = _temp.Combine("run");
        var run = RunFolder.Open("sorting", dir, resume: false);
        run.WriteConfig(Settings(dir), null);
        run.WriteSummary(new RunSummary(100, 2.0, 0.1));
        File.WriteAllBytes(run.CheckpointPath(100), [1, 2, 3]);
        File.WriteAllBytes(run.CheckpointPath(20), [1]);
        run.Dispose();
        using var resumed = RunFolder.Open("sorting", Settings(dir, resume: true));
        Assert.That(resumed.IsResumed && resumed.IsFinished);
        Assert.That(resumed.CheckpointSteps(), Is.EqualTo(new long[] { 20, 100 }));
        Assert.That(resumed.LatestCheckpointStep(), Is.EqualTo(100));
    }

    [Test]
    public void Open_Resume_OfAnotherExperimentsRun_IsUsageError()
    {
        string dir = _temp.Combine("run");
        using (var affine = RunFolder.Open("affine", dir, resume: false)) affine.WriteConfig(Settings(dir), null);
        var error = Assert.Throws<UsageException>(() => RunFolder.Open("sorting", dir, resume: true))!;
        Assert.That(error.Message, Does.Contain("'affine'"));
    }

    [Test]
    public void Open_ASecondOpenWhileTheFirstHoldsTheFolder_IsUsageErrorNamingThePid()
    {
        string dir = _temp.Combine("run");
        using (var first = RunFolder.Open("sorting", dir, resume: false))
        {
            first.WriteConfig(Settings(dir), null);
            var fresh = Assert.Throws<UsageException>(() => RunFolder.Open("sorting", dir, resume: false))!;
            var resumed = Assert.Throws<UsageException>(() => RunFolder.Open("sorting", dir, resume: true))!;
            foreach (var error in new[] { fresh, resumed })
                Assert.That(error.Message, Does.Contain("in use by another Forge process").And.Contain($"pid {Environment.ProcessId}"));
        }
        using var afterwards = RunFolder.Open("sorting", dir, resume: true);   // released on dispose
        Assert.That(afterwards.IsResumed);
    }

    [Test]
    public void Open_RemovesTemporaryFilesAKilledWriterLeft()
    {
        string dir = _temp.Combine("run");
        using (var run = RunFolder.Open("sorting", dir, resume: false)) run.WriteConfig(Settings(dir), null);
        string leftover = Path.Combine(dir, "checkpoints", "step-00000010.safetensors.tmp-0a1b2c3d4e5f");
        File.WriteAllBytes(leftover, [1, 2, 3]);
        using var resumed = RunFolder.Open("sorting", dir, resume: true);
        Assert.That(File.Exists(leftover), Is.False);
    }

    [Test]
    public void Open_AnEmptyOrUncreatableOut_IsUsageError()
    {
        Assert.That(Assert.Throws<UsageException>(() => RunFolder.Open("sorting", "", resume: false))!.Message, Does.Contain("--out is empty"));
        Assert.That(Assert.Throws<UsageException>(() => RunFolder.Open("sorting", "/proc/forge-run", resume: false))!.Message,
            Does.Contain("cannot create run folder '/proc/forge-run'"));
    }

    [Test]
    public void Open_OutIsAFile_IsUsageError()
    {
        string file = _temp.Combine("file");
        File.WriteAllText(file, "x");
        Assert.Throws<UsageException>(() => RunFolder.Open("sorting", file, resume: false));
    }

    [Test]
    public void WriteConfig_HasCommonAndExperimentSettings()
    {
        string dir = _temp.Combine("run");
        var run = RunFolder.Open("sorting", dir, resume: false);
        run.WriteConfig(Settings(dir), new SortingSettings(10, 50, 0.005, null));
        string text = File.ReadAllText(run.ConfigPath);
        Assert.That(text, Does.Contain("\n  \"seed\": 5"), "indented JSON");
        var config = JsonNode.Parse(text)!.AsObject();
        Assert.That(config["experiment"]!.GetValue<string>(), Is.EqualTo("sorting"));
        Assert.That(config["seed"]!.GetValue<ulong>(), Is.EqualTo(5));
        Assert.That(config["device"]!.GetValue<string>(), Is.EqualTo("cpu"));
        Assert.That(config["threads"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(config["steps"]!.GetValue<int>(), Is.EqualTo(100));
        Assert.That(config["engine_version"]!.GetValue<string>(), Is.Not.Empty);
        Assert.That(config["list_length"]!.GetValue<int>(), Is.EqualTo(10), "snake_case keys");
        Assert.That(config["weight_decay"]!.GetValue<double>(), Is.EqualTo(0.005));
        Assert.That(config.ContainsKey("d_mlp") && config["d_mlp"] is null, "null settings are recorded as null");
        Assert.That(run.ReadConfig()!["max_value"]!.GetValue<int>(), Is.EqualTo(50));
    }

    [Test]
    public void WriteConfig_AcceptsADictionary_AndRejectsCollisions()
    {
        string dir = _temp.Combine("run");
        var run = RunFolder.Open("sorting", dir, resume: false);
        run.WriteConfig(Settings(dir), new Dictionary<string, object?> { ["batch_size"] = 512 });
        Assert.That(run.ReadConfig()!["batch_size"]!.GetValue<int>(), Is.EqualTo(512));
        Assert.Throws<ArgumentException>(() => run.WriteConfig(Settings(dir), new Dictionary<string, object?> { ["seed"] = 1 }));
    }

    [Test]
    public void Summary_HasRequiredKeysFirst_ThenExtras()
    {
        var run = RunFolder.Open("sorting", _temp.Combine("run"), resume: false);
        run.WriteSummary(new RunSummary(7325, 18.5, 0.039)
        {
            Extras = new Dictionary<string, object?> { ["val_loss"] = 0.041, ["val_acc"] = 0.9989, ["mode"] = "vocabulary-splitting" },
        });
        var summary = run.ReadSummary()!;
        Assert.That(summary.Select(p => p.Key).Take(4), Is.EqualTo(RunSummary.RequiredKeys));
        Assert.That(summary["steps"]!.GetValue<long>(), Is.EqualTo(7325));
        Assert.That(summary["steps_per_second"]!.GetValue<double>(), Is.EqualTo(7325 / 18.5).Within(1e-9));
        Assert.That(summary["final_train_loss"]!.GetValue<double>(), Is.EqualTo(0.039));
        Assert.That(summary["val_acc"]!.GetValue<double>(), Is.EqualTo(0.9989));
        Assert.That(summary["mode"]!.GetValue<string>(), Is.EqualTo("vocabulary-splitting"));
        Assert.That(run.IsFinished);
    }

    [Test]
    public void Summary_DivergedLoss_IsWrittenNotThrown()
    {
        var run = RunFolder.Open("sorting", _temp.Combine("run"), resume: false);
        run.WriteSummary(new RunSummary(10, 0, double.NaN));
        var summary = run.ReadSummary()!;
        Assert.That(summary["final_train_loss"]!.ToString(), Is.EqualTo("NaN"));
        Assert.That(summary["steps_per_second"]!.GetValue<double>(), Is.EqualTo(0));
    }

    [Test]
    public void Summary_ExtraCollidingWithRequiredKey_Throws()
    {
        var summary = new RunSummary(1, 1, 1) { Extras = new Dictionary<string, object?> { ["steps"] = 3 } };
        Assert.Throws<ArgumentException>(() => summary.ToJson());
    }

    [Test]
    public void WriteReport_WritesMarkdown()
    {
        var run = RunFolder.Open("sorting", _temp.Combine("run"), resume: false);
        run.WriteReport("# Sorting\n");
        Assert.That(File.ReadAllText(run.ReportPath), Is.EqualTo("# Sorting\n"));
    }
}
