using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

/// <summary>Plain progress lines: format, cadence (every 10% or every interval), final line.</summary>
public class ProgressTests
{
    /// <summary>A clock the test moves by hand.</summary>
    sealed class ManualClock : TimeProvider
    {
        long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(double seconds) => _ticks += (long)(seconds * TimeSpan.TicksPerSecond);
    }

    [Test]
    public void Line_HasTheConventionsFormat()
    {
        string line = ProgressText.Line(1200, 7325, 0.12341, 410, [new Metric("val_acc", 0.998)]);
        Assert.That(line, Is.EqualTo("step 1200/7325  loss 0.1234  410 steps/s  ETA 0:15  val_acc 0.9980"));
    }

    [TestCase(0, "0:00")]
    [TestCase(12.4, "0:12")]
    [TestCase(725, "12:05")]
    [TestCase(3729, "1:02:09")]
    public void Duration_Format(double seconds, string expected) =>
        Assert.That(ProgressText.Duration(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));

    [TestCase(0.5, "0.5000")]
    [TestCase(1.23e-5, "1.23E-05")]
    [TestCase(double.NaN, "NaN")]
    public void Number_Format(double value, string expected) => Assert.That(ProgressText.Number(value), Is.EqualTo(expected));

    [Test]
    public void Rate_Format()
    {
        Assert.That(ProgressText.Rate(409.6), Is.EqualTo("410 steps/s"));
        Assert.That(ProgressText.Rate(3.42), Is.EqualTo("3.4 steps/s"));
    }

    [Test]
    public void Plain_PrintsEveryTenthWhenFast_ThenAFinalLine()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new PlainProgress(output, TimeSpan.FromSeconds(10), clock);
        progress.Start(1000);
        for (int step = 1; step <= 1000; step++)
        {
            clock.Advance(0.001);     // 1000 steps/s: the 10 s interval never passes
            progress.Report(step, 1.0 / step);
        }
        progress.Finish();
        var lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(11), output.ToString());
        Assert.That(lines[0], Is.EqualTo("step 100/1000  loss 0.0100  1000 steps/s  ETA 0:01"));
        Assert.That(lines[9], Does.StartWith("step 1000/1000  loss 0.0010"));
        Assert.That(lines[10], Is.EqualTo("done 1000 steps in 0:01  1000 steps/s  loss 0.0010"));
    }

    [Test]
    public void Plain_PrintsEveryIntervalWhenSlow()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new PlainProgress(output, TimeSpan.FromSeconds(10), clock);
        progress.Start(10_000);
        for (int step = 1; step <= 100; step++)
        {
            clock.Advance(1);          // 1 step/s: 10% would take 1000 s, so the interval decides
            progress.Report(step, 2.0);
        }
        var lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(10));
        Assert.That(lines[0], Is.EqualTo("step 10/10000  loss 2.0000  1.0 steps/s  ETA 2:46:30"));
    }

    [Test]
    public void Plain_Resumed_CountsOnlyNewSteps()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        var progress = new PlainProgress(output, TimeSpan.FromSeconds(10), clock);
        progress.Start(1000, firstStep: 500);
        clock.Advance(1);
        progress.Report(600, 0.5);        // 100 steps in 1 s; crosses the 60% mark
        progress.Finish();
        var lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.That(lines[0], Is.EqualTo("step 600/1000  loss 0.5000  100 steps/s  ETA 0:04"));
        Assert.That(lines[1], Is.EqualTo("done 100 steps in 0:01  100 steps/s  loss 0.5000"));
    }

    [Test]
    public void Plain_ReportBetweenLines_AllocatesNothing()
    {
        var clock = new ManualClock();
        var progress = new PlainProgress(new StringWriter(), TimeSpan.FromSeconds(10), clock);
        progress.Start(1_000_000);
        progress.Report(1, 1.0, new Metric("val_acc", 0.5));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 2; step < 1000; step++) progress.Report(step, 1.0 / step, new Metric("val_acc", 0.5));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }

    [Test]
    public void Plain_ReportBeforeStart_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new PlainProgress(new StringWriter()).Report(1, 0));

    [Test]
    public void Reporter_PlainForAnyWriterButTheConsole()
    {
        using var progress = ProgressReporter.For(new StringWriter());
        Assert.That(progress, Is.TypeOf<PlainProgress>());
    }

    [TestCase(false, null, "xterm-256color", true)]
    [TestCase(true, null, "xterm-256color", false)]
    [TestCase(false, "true", "xterm", false)]
    [TestCase(false, "1", "xterm", false)]
    [TestCase(false, "false", "xterm", true)]
    [TestCase(false, null, "dumb", false)]
    public void Reporter_LiveOnlyOnAnInteractiveTerminal(bool redirected, string? ci, string? term, bool live) =>
        Assert.That(ProgressReporter.IsInteractive(redirected, ci, term), Is.EqualTo(live));

    [Test]
    public void Live_RunsAndStops_OnAnInMemoryConsole()
    {
        var writer = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(writer),
            Interactive = Spectre.Console.InteractionSupport.Yes,
            Ansi = Spectre.Console.AnsiSupport.Yes,
        });
        var progress = new LiveProgress(console);
        progress.Start(50);
        for (int step = 1; step <= 50; step++) progress.Report(step, 0.5, new Metric("val_acc", 0.9));
        Thread.Sleep(150);
        progress.Finish();
        Assert.That(writer.ToString(), Does.Contain("done 50 steps").And.Contain("loss 0.5000"));
    }
}
