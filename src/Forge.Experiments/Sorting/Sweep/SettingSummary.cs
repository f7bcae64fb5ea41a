using Forge.Experiments.Reports;
using System.Globalization;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>The finished runs of one setting (all seeds) and what the sweep report says about them.</summary>
public sealed record SettingSummary(SortingSetting Setting, IReadOnlyList<FinishedRun> Runs)
{
    /// <summary>The modes in the order reports list them, with their short names.</summary>
    public static IReadOnlyList<(SortingMode Mode, string Label)> Modes { get; } =
    [
        (SortingMode.SingleHead, "single head"), (SortingMode.VocabularySplitting, "splitting"),
        (SortingMode.CopySuppression, "suppression"), (SortingMode.Overlapping, "overlapping"),
    ];

    /// <summary>The short name of a mode.</summary>
    public static string Label(SortingMode mode) => Modes.First(m => m.Mode == mode).Label;

    /// <summary>Groups runs by setting: the base first, then the sweep groups' settings in group order, then any others by name.</summary>
    public static IReadOnlyList<SettingSummary> Of(IEnumerable<FinishedRun> runs) =>
        runs.GroupBy(r => r.Setting)
            .Select(g => new SettingSummary(g.Key, g.OrderBy(r => r.Seed).ToList()))
            .OrderBy(s => s.Setting.IsBase ? -1 : FirstGroup(s.Setting))
            .ThenBy(s => FirstGroup(s.Setting) < SweepGroup.All.Count ? s.Setting.Value(SweepGroup.All[FirstGroup(s.Setting)].Dimension) : 0)
            .ThenBy(s => s.Setting.Name, StringComparer.Ordinal)
            .ToList();

    static int FirstGroup(SortingSetting setting)
    {
        for (int g = 0; g < SweepGroup.All.Count; g++)
            if (SweepGroup.All[g].Covers(setting)) return g;
        return SweepGroup.All.Count;
    }

    public int Seeds => Runs.Count;

    public int Count(SortingMode mode) => Runs.Count(r => r.Mode == mode);

    /// <summary>Share of the runs that ended in <paramref name="mode"/> (NaN without runs).</summary>
    public double Fraction(SortingMode mode) => Seeds == 0 ? double.NaN : (double)Count(mode) / Seeds;

    public double MedianAccuracy => SweepStats.Median(Runs.Select(r => r.ValAcc));
    public double MinAccuracy => Runs.Count == 0 ? double.NaN : Runs.Min(r => r.ValAcc);

    /// <summary>Mean and std (over runs) of the usable LLCs of the runs in <paramref name="mode"/>, and how many there were.</summary>
    public (double Mean, double Std, int Count) Llc(SortingMode mode) => SweepStats.MeanStd(Runs.Where(r => r.Mode == mode && r.Llc is not null).Select(r => r.Llc!.Value));

    /// <summary>"splitting 52.1 ± 3.0 (n=3); overlapping 60.2 (n=1)"; diverged estimates are counted apart.</summary>
    public string LlcByModeText()
    {
        var parts = new List<string>();
        foreach (var (mode, label) in Modes)
        {
            var (mean, std, n) = Llc(mode);
            if (n == 0) continue;
            parts.Add(n == 1 ? $"{label} {F1(mean)} (n=1)" : $"{label} {F1(mean)} ± {F1(std)} (n={n})");
        }
        int diverged = Runs.Count(r => r.Llc is null);
        if (diverged > 0) parts.Add($"{diverged} diverged");
        return parts.Count == 0 ? "–" : string.Join("; ", parts);
    }

    /// <summary>"0.60 (3/5)".</summary>
    public string FractionText(SortingMode mode) =>
        Count(mode) == 0 ? "0" : $"{Fraction(mode).ToString("F2", CultureInfo.InvariantCulture)} ({Count(mode)}/{Seeds})";

    static string F1(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
}
