using Forge.Experiments.Cli;
using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

/// <summary>metrics.csv: header, rows flushed as written, truncation on resume.</summary>
public class MetricsLogTests
{
    TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder();
    [TearDown] public void TearDown() => _temp.Dispose();

    RunFolder NewRun(string name = "run") => RunFolder.Open("sorting", _temp.Combine(name), resume: false);

    static void MarkStarted(RunFolder run) => File.WriteAllText(run.ConfigPath, "{}");

    [Test]
    public void Header_AndRows_AreWrittenAndFlushedImmediately()
    {
        var run = NewRun();
        using var log = run.OpenMetrics(["val_loss", "val_acc"]);
        log.Append(0, 1e-3, 3.95, 3.9, 0.02);
        log.Append(100, 9.5e-4, 0.5, double.NaN, double.NaN);
        // Read while the log is still open: every row must already be on disk (a killed run keeps it).
        string text = File.ReadAllText(run.MetricsPath);
        Assert.That(text, Is.EqualTo("step,lr,train_loss,val_loss,val_acc\n0,0.001,3.95,3.9,0.02\n100,0.00095,0.5,,\n"));
    }

    [Test]
    public void Append_NamedExtras_FillsMissingWithEmptyCells()
    {
        var run = NewRun();
        using (var log = run.OpenMetrics(["val_loss", "llc"]))
            log.Append(5, 0.5, 1.25, new Dictionary<string, double> { ["llc"] = 12.5 });
        Assert.That(File.ReadAllLines(run.MetricsPath)[1], Is.EqualTo("5,0.5,1.25,,12.5"));
    }

    [Test]
    public void Append_WrongValueCount_Throws()
    {
        using var log = NewRun().OpenMetrics(["a"]);
        Assert.Throws<ArgumentException>(() => log.Append(1, 0, 0));
        Assert.Throws<ArgumentException>(() => log.Append(1, 0, 0, new Dictionary<string, double> { ["b"] = 1 }));
    }

    [TestCase("step")]
    [TestCase("a,b")]
    [TestCase("")]
    public void BadColumnNames_Throw(string name) =>
        Assert.Throws<ArgumentException>(() => NewRun().OpenMetrics([name]));

    [Test]
    public void Resume_DropsRowsAfterTheCheckpointStep_AndAHalfWrittenLine()
    {
        var run = NewRun();
        MarkStarted(run);
        using (var log = run.OpenMetrics(["val_acc"]))
            for (int step = 0; step <= 500; step += 100) log.Append(step, 1e-3, 1.0 / (step + 1), 0.5);
        File.AppendAllText(run.MetricsPath, "600,0.001,0.0");   // killed mid-row: no newline
        run.Dispose();

        using var resumed = RunFolder.Open("sorting", run.Root, resume: true);
        using (var log = resumed.OpenMetrics(["val_acc"], resumedFromStep: 300))
            log.Append(400, 1e-3, 0.25, 0.75);

        var table = MetricsTable.Read(run.MetricsPath);
        Assert.That(table.Column("step"), Is.EqualTo(new double[] { 0, 100, 200, 300, 400 }));
        Assert.That(table.Column("val_acc")[^1], Is.EqualTo(0.75));
        Assert.That(File.ReadAllText(run.MetricsPath), Does.StartWith("step,lr,train_loss,val_acc\n0,"));
    }

    [Test]
    public void Resume_FromScratch_KeepsOnlyTheHeader()
    {
        var run = NewRun();
        MarkStarted(run);
        using (var log = run.OpenMetrics([])) log.Append(1, 1e-3, 2);
        run.Dispose();
        using var resumed = RunFolder.Open("sorting", run.Root, resume: true);
        resumed.OpenMetrics([]).Dispose();
        Assert.That(File.ReadAllText(run.MetricsPath), Is.EqualTo("step,lr,train_loss\n"));
    }

    [Test]
    public void Resume_WithDifferentColumns_IsUsageError()
    {
        var run = NewRun();
        MarkStarted(run);
        run.OpenMetrics(["val_acc"]).Dispose();
        run.Dispose();
        using var resumed = RunFolder.Open("sorting", run.Root, resume: true);
        var error = Assert.Throws<UsageException>(() => resumed.OpenMetrics(["val_loss"]))!;
        Assert.That(error.Message, Does.Contain("val_acc").And.Contain("val_loss"));
    }

    [Test]
    public void Table_ReadsColumnsAndNaNForEmptyCells()
    {
        var run = NewRun();
        using (var log = run.OpenMetrics(["v"]))
        {
            log.Append(1, 0.1, 0.2, double.NaN);
            log.Append(2, 0.1, 0.3, 7);
        }
        var table = MetricsTable.Read(run.MetricsPath);
        Assert.That(table.Columns, Is.EqualTo(new[] { "step", "lr", "train_loss", "v" }));
        Assert.That(double.IsNaN(table.Column("v")[0]) && table.Column("v")[1] == 7);
        Assert.Throws<ArgumentException>(() => table.Column("nope"));
    }

    [Test]
    public void Append_AllocatesNothing()
    {
        using var log = NewRun().OpenMetrics(["a", "b"]);
        log.Append(0, 1e-3, 1.5, 2.5, 3.5);   // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 1; step <= 200; step++) log.Append(step, 1e-3 / step, 1.0 / step, step * 0.1, double.NaN);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }

    [Test]
    public void Values_RoundTripExactly()
    {
        var run = NewRun();
        double awkward = 0.1 + 0.2, small = 1.2345678901234567e-9;
        using (var log = run.OpenMetrics([])) log.Append(long.MaxValue, small, awkward);
        var row = MetricsTable.Read(run.MetricsPath).Rows[0];
        Assert.That((row[1], row[2]), Is.EqualTo((small, awkward)));
    }
}
