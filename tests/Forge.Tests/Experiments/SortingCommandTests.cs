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
        var registry = new CommandRegistry().Register(new SortingExperiment());
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
    public void Denormals_FlushedBySortingByDefault_KeptOnRequest_OtherModesRefused()
    {
        Assert.That(new Forge.Experiments.Sorting.SortingRecipe().Denormals, Is.EqualTo("flush"));
        Assert.That(new Forge.Experiments.Affine.AffineRecipe().Denormals, Is.EqualTo("keep"), "only sorting changes the default");
        using var temp = new TempFolder();
        try
        {
            foreach (var (name, options, expected) in new[] { ("default", new string[0], "flush"), ("kept", new[] { "--denormals", "keep" }, "keep") })
            {
                string dir = temp.Combine(name);
                var result = Run(["sorting", "--out", dir, "--no-analysis", "--steps", "3", .. options, .. Tiny]);
                Assert.That(result.Code, Is.EqualTo(0), result.Err);
                Assert.That(File.ReadAllText(Path.Combine(dir, "config.json")), Does.Contain($"\"denormals\": \"{expected}\""));
                Assert.That(Forge.Kernels.Threading.Denormals.FlushToZero, Is.False, "the command puts the mode back when it ends");
            }
        }
        finally { Forge.Kernels.Threading.Denormals.FlushToZero = false; }

        string never = Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid());
        var bad = Run("sorting", "--denormals", "fast", "--out", never);
        Assert.That(bad.Code, Is.EqualTo(2));
        Assert.That(bad.Err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(bad.Err, Does.Contain("denormals must be keep or flush").And.Contain("'fast'"));
        Assert.That(Directory.Exists(never), Is.False, "a rejected run creates no folder");
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

    /// <summary>
    /// metrics.csv of <c>sorting --seed 0 --no-analysis</c> with <see cref="Tiny"/>, written by the code
    /// before the experiment framework existed (commit 91e39ba): moving sorting onto the framework must not
    /// change a single number. Micro-batches (the default since) sum the gradient in another order, so the
    /// test trains whole batches (<c>--micro-batch 0</c>) with IEEE denormals (<c>--denormals keep</c>, the code of
    /// that time), which must still give exactly these numbers.
    /// </summary>
    const string MetricsBeforeTheFramework = """
        step,lr,train_loss,val_loss,val_acc
        1,0.001,4.250519275665283,,
        20,0.00082,3.1242260932922363,3.1697494825469557,0.12890625
        40,0.00046,2.719243288040161,2.7846678279415356,0.217578125
        50,0.0002800000000000001,2.537846088409424,,
        60,0.00010000000000000005,2.4969587326049805,2.667170325449872,0.25234375

        """;

    /// <summary>SHA-256 of the tensor bytes (weights and Adam state) of that run's final checkpoint.</summary>
    const string FinalCheckpointBeforeTheFramework = "9d3fc1cc48113ed7ba8861dab287a02265de22f0dcd353ea708c8834e6a7c7ce";

    [Test]
    public void Seed0GivesTheNumbersOfTheCodeBeforeTheFramework()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        var result = Run(["sorting", "--out", dir, "--seed", "0", "--no-analysis", "--micro-batch", "0", "--denormals", "keep", .. Tiny]);
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        string metrics = File.ReadAllText(Path.Combine(dir, "metrics.csv"));
        string checkpoint = TensorBytesHash(Path.Combine(dir, "checkpoints", "step-00000060.safetensors"));
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            // The reference numbers come from an AVX-512 machine (the project's); there they are bit-exact.
            Assert.That(metrics, Is.EqualTo(MetricsBeforeTheFramework.Replace("\r\n", "\n")));
            Assert.That(checkpoint, Is.EqualTo(FinalCheckpointBeforeTheFramework));
        }
        else
        {
            // Other vector widths sum in another order: the same numbers to float rounding.
            var expected = MetricsBeforeTheFramework.Trim().Split('\n');
            var actual = metrics.Trim().Split('\n');
            Assert.That(actual, Has.Length.EqualTo(expected.Length));
            for (int row = 1; row < expected.Length; row++)
                foreach (var (e, a) in expected[row].Split(',').Zip(actual[row].Split(',')))
                    if (e.Length > 0) Assert.That(double.Parse(a, System.Globalization.CultureInfo.InvariantCulture),
                        Is.EqualTo(double.Parse(e, System.Globalization.CultureInfo.InvariantCulture)).Within(1e-4).Percent, expected[row]);
        }
    }

    [Test]
    public void MicroBatchedTrainingGivesTheSameNumbersOnOneThreadAndTwoAndTracksWholeBatches()
    {
        using var temp = new TempFolder();
        string Metrics(string name, params string[] options)
        {
            string dir = temp.Combine(name);
            var result = Run(["sorting", "--out", dir, "--seed", "0", "--no-analysis", "--micro-batch", "16", .. options, .. Tiny]);
            Assert.That(result.Code, Is.EqualTo(0), result.Err);
            return File.ReadAllText(Path.Combine(dir, "metrics.csv"));
        }
        string one = Metrics("one", "--threads", "1"), two = Metrics("two", "--threads", "2");
        Assert.That(two, Is.EqualTo(one), "4 micro-batches of 16 lists: the thread count must not change a bit");
        Assert.That(File.ReadAllText(Path.Combine(temp.Combine("one"), "config.json")), Does.Contain("\"micro_batch\": 16"));

        // The same training as whole batches up to rounding: the first loss to float32 rounding (1e-6), the end of the run close.
        var whole = MetricsBeforeTheFramework.Trim().Split('\n');
        var split = one.Trim().Split('\n');
        double Cell(string[] rows, int row, int column) => double.Parse(rows[row].Split(',')[column], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(Cell(split, 1, 2), Is.EqualTo(Cell(whole, 1, 2)).Within(1e-4).Percent, "train loss at step 1");
        Assert.That(Cell(split, 5, 3), Is.EqualTo(Cell(whole, 5, 3)).Within(1).Percent, "val loss at step 60");
    }

    [Test]
    public void ARunFolderWrittenBeforeMicroBatchesAndFlushedDenormalsExistedReadsAsWholeBatchesWithDenormals()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        Assert.That(Run(["sorting", "--out", dir, "--no-analysis", .. Tiny]).Code, Is.EqualTo(0));
        string config = Path.Combine(dir, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        Assert.That((int)json["micro_batch"]!, Is.EqualTo(32), "a new run records its micro-batch size");
        Assert.That((string)json["denormals"]!, Is.EqualTo("flush"), "and its denormal mode");
        var experiment = new SortingExperiment();
        using (var folder = Forge.Experiments.Runs.RunFolder.Open("sorting", dir, resume: true))
        {
            Assert.That(experiment.ReadStored(folder).Recipe.MicroBatch, Is.EqualTo(32));
            Assert.That(experiment.ReadStored(folder).Recipe.Denormals, Is.EqualTo("flush"));
        }
        json.Remove("micro_batch");
        json.Remove("denormals");
        File.WriteAllText(config, json.ToJsonString());
        using (var folder = Forge.Experiments.Runs.RunFolder.Open("sorting", dir, resume: true))
        {
            Assert.That(experiment.ReadStored(folder).Recipe.MicroBatch, Is.EqualTo(0), "resumed or re-analysed, an old run keeps training whole batches");
            Assert.That(experiment.ReadStored(folder).Recipe.Denormals, Is.EqualTo("keep"), "and keeps its denormals");
        }
    }

    static string TensorBytesHash(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.AsSpan((int)(8 + headerLength))));
    }

    [Test]
    public void AnalyzeAndLlcCalibrateFindTheExperimentInConfigJson()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        Assert.That(Run(["sorting", "--out", dir, "--no-analysis", .. Tiny]).Code, Is.EqualTo(0));
        var registry = CommandRegistry.Discover();
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.That(CliApp.Run(["analyze", "--run", dir, "--step", "20"], registry, output, error), Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain("val acc").And.Contain("report:"));
        Assert.That(File.Exists(Path.Combine(dir, RunFolder.AnalysisFileName)));
        Assert.That(CliApp.Run(["llc-calibrate", "--run", dir, "--epsilons", "1e-6", "--gammas", "1e4", "--chains", "1", "--draws", "4"], registry, output, error),
            Is.EqualTo(0), error.ToString());
        Assert.That(File.ReadAllText(Path.Combine(dir, "llc-calibration.md")), Does.Contain("chance-level loss 3.9512"), "ln 52: max_value 50 gives 52 tokens");

        string foreign = temp.Combine("foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "config.json"), """{ "experiment": "juggling" }""");
        error = new StringWriter();
        Assert.That(CliApp.Run(["analyze", "--run", foreign], registry, new StringWriter(), error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain("unknown experiment 'juggling'").And.Contain("sorting"));
    }
}
