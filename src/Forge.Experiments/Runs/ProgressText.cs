using System.Globalization;
using System.Text;

namespace Forge.Experiments.Runs;

/// <summary>The text pieces of progress output, shared by the plain and the live display.</summary>
public static class ProgressText
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A loss or metric: 4 decimals, or 3 significant digits when tiny ("1.23E-05").</summary>
    public static string Number(double value) =>
        value == 0 || Math.Abs(value) >= 1e-3 || !double.IsFinite(value)
            ? value.ToString("F4", Invariant)
            : value.ToString("G3", Invariant);

    /// <summary>Throughput: "410 steps/s", "3.4 steps/s".</summary>
    public static string Rate(double stepsPerSecond) =>
        (stepsPerSecond >= 10 ? stepsPerSecond.ToString("F0", Invariant) : stepsPerSecond.ToString("F1", Invariant)) + " steps/s";

    /// <summary>A duration as m:ss, or h:mm:ss from one hour on: "0:12", "12:05", "1:02:09".</summary>
    public static string Duration(TimeSpan duration)
    {
        long seconds = (long)Math.Round(Math.Max(0, duration.TotalSeconds));
        long hours = seconds / 3600, minutes = seconds / 60 % 60, rest = seconds % 60;
        return hours > 0
            ? string.Create(Invariant, $"{hours}:{minutes:D2}:{rest:D2}")
            : string.Create(Invariant, $"{minutes}:{rest:D2}");
    }

    /// <summary>
    /// One progress line: <c>step 1200/7325  loss 0.1234  410 steps/s  ETA 0:12  val_acc 0.9980</c>.
    /// </summary>
    public static string Line(long step, long totalSteps, double loss, double stepsPerSecond, ReadOnlySpan<Metric> extras)
    {
        var line = new StringBuilder();
        line.Append(Invariant, $"step {step}/{totalSteps}  loss {Number(loss)}  {Rate(stepsPerSecond)}  ETA ");
        line.Append(stepsPerSecond > 0 ? Duration(TimeSpan.FromSeconds((totalSteps - step) / stepsPerSecond)) : "?");
        foreach (var metric in extras) line.Append("  ").Append(metric.Name).Append(' ').Append(Number(metric.Value));
        return line.ToString();
    }

    /// <summary>The final line: <c>done 7325 steps in 0:18  410 steps/s  loss 0.0390</c>.</summary>
    public static string FinishLine(long stepsDone, TimeSpan elapsed, double stepsPerSecond, double lastLoss) =>
        $"done {stepsDone} steps in {Duration(elapsed)}  {Rate(stepsPerSecond)}  loss {Number(lastLoss)}";
}
