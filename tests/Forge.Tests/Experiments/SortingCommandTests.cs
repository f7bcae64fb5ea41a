using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Experiments.Sorting;
using Forge.Kernels.Threading;
using Forge.Models.Checkpoints;

namespace Forge.Tests.Experiments;

/// <summary>The sorting command end to end at toy size: run folder, resume, analysis and report.</summary>
public class SortingCommandTests
{
    static readonly string[] Tiny =
    [
        "--train-size", "640", "--val-size", "256", "--batch-size", "64", "--epochs", "6", "--eval-every", "20",
        "--checkpoints", "log:6+linear:20", "--llc-chains", "2", "--llc-draws", "10", "--llc-burn-in", "5", "--llc-batch", "64",
    ];

    int _threads;

    [SetUp]
    public void RememberThreads() => _threads = ForkJoin.Threads;

    [TearDown]
    public void RestoreThreads() => ForkJoin.Threads = _threads;

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var registry = new CommandRegistry().Register(new SortingCommand());
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, registry, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void AFullToyRunWritesTheConventionalFolderAndReport()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        var result = Run(["sorting", "--out", dir, "--seed", "3", .. Tiny]);
        Assert.That(result.Code, Is.EqualTo(0), result.Err + result.Out);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
        foreach (var key in new[] { "steps", "train_seconds", "steps_per_second", "final_train_loss", "val_loss", "val_acc" })
            Assert.That(summary.ContainsKey(key), key);
        Assert.That(summary["steps"]!.GetValue<long>(), Is.EqualTo(60));   // 6 epochs × 10 steps
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.That(config["seed"]!.GetValue<ulong>(), Is.EqualTo(3UL));
        Assert.That(config["train_size"]!.GetValue<int>(), Is.EqualTo(640));
        Assert.That(File.ReadLines(Path.Combine(dir, "metrics.csv")).First(), Is.EqualTo("step,lr,train_loss,val_loss,val_acc"));
        Assert.That(Directory.GetFiles(Path.Combine(dir, "checkpoints")).Select(Path.GetFileName),
            Does.Contain("step-00000020.safetensors").And.Contain("step-00000060.safetensors"));
        var figures = Directory.GetFiles(Path.Combine(dir, "figures"), "*.png");
        Assert.That(figures, Has.Length.GreaterThanOrEqualTo(9));
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.That(report, Does.Contain("| claim | verdict | evidence |").And.Contain("1. A 1-layer").And.Contain("6. Development"));
        Assert.That(report, Does.Contain("figures/full_ov.png"));
    }

    [Test]
    public void ResumingAnInterruptedRunGivesTheSameNumbersAsAnUninterruptedOne()
    {
        using var temp = new TempFolder();
        string whole = temp.Combine("whole"), split = temp.Combine("split");
        Assert.That(Run(["sorting", "--out", whole, "--no-analysis", .. Tiny]).Code, Is.EqualTo(0));
        Assert.That(Run(["sorting", "--out", split, "--no-analysis", "--steps", "40", .. Tiny]).Code, Is.EqualTo(0));
        // "interrupt": drop the last checkpoint and the summary, as if the run had been killed after step 40's
        // checkpoint; then resume to the full length.
        File.Delete(Path.Combine(split, "summary.json"));
        var resumed = Run("sorting", "--out", split, "--resume", "--steps", "60", "--no-analysis");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("resuming from checkpoints/step-00000040.safetensors"));

        var a = SafeTensors.Read(Path.Combine(whole, "checkpoints", "step-00000060.safetensors"));
        var b = SafeTensors.Read(Path.Combine(split, "checkpoints", "step-00000060.safetensors"));
        foreach (var name in a.Names) Assert.That(b.GetFloat(name).ToArray(), Is.EqualTo(a.GetFloat(name).ToArray()), name);
        var wholeRows = MetricsTable.Read(Path.Combine(whole, "metrics.csv"));
        var splitRows = MetricsTable.Read(Path.Combine(split, "metrics.csv"));
        Assert.That(splitRows.Column("step"), Is.EqualTo(wholeRows.Column("step")));
        Assert.That(splitRows.Column("train_loss"), Is.EqualTo(wholeRows.Column("train_loss")));
        Assert.That(splitRows.Column("val_acc"), Is.EqualTo(wholeRows.Column("val_acc")));
    }

    [Test]
    public void BadSortingOptionsAreOneLineErrors()
    {
        var bad = Run("sorting", "--heads", "zero");
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(bad.Err, Does.Contain("'zero'").And.Contain("--heads"));
        string never = Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid());
        var impossible = Run("sorting", "--list-length", "60", "--max-value", "50", "--out", never);
        Assert.That(impossible.Code, Is.EqualTo(2));
        Assert.That(impossible.Err, Does.Contain("60 distinct"));
        Assert.That(Directory.Exists(never), Is.False, "a rejected run creates no folder");
    }
}
