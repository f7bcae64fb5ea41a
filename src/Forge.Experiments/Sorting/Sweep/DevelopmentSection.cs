using System.Globalization;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The sweep report's development section (claim 6, the stage half): for every run with a development
/// analysis, its stages (LLC rising or falling between boundaries), the mode sequence over checkpoints,
/// and whether the LLC falls in a stage where its estimates are valid; figures of LLC and loss over
/// training for all those runs; and the stage half's verdict.
/// </summary>
public static class DevelopmentSection
{
    /// <summary>The share of analysed seeds that must show a valid falling-LLC stage for "supported" [ours].</summary>
    public const double SupportedShare = 0.8;

    /// <summary>Every run of <paramref name="runs"/> that has a readable development.csv, and the folders whose file is unreadable (with the reason).</summary>
    public static (IReadOnlyList<DevelopmentRun> Runs, IReadOnlyList<string> Unreadable) Read(IEnumerable<FinishedRun> runs)
    {
        var found = new List<DevelopmentRun>();
        var unreadable = new List<string>();
        foreach (var run in runs)
        {
            try { if (DevelopmentRun.Read(run) is { } development) found.Add(development); }
            catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException or IOException)
            {
                unreadable.Add($"{run.Setting.Name}/seed-{run.Seed}: {e.Message}");
            }
        }
        return (found, unreadable);
    }

    /// <summary>The stage half of claim 6 over the analysed runs.</summary>
    public static (Verdict Verdict, string Evidence) StageHalf(IReadOnlyList<DevelopmentRun> runs)
    {
        if (runs.Count == 0) return (Verdict.NotTested, "no run has the development analysis (`analyze --run DIR --development`)");
        int falling = runs.Count(r => r.FirstValidFallingStage is not null);
        int organisedAfterFall = runs.Count(r => r.FirstValidFallingStage is { } s && IsOrganised(s.Modes[^1]));
        int throughOverlap = runs.Count(r => r.ModeSequence.Count > 1 && r.ModeSequence.Contains(SortingMode.Overlapping) && IsOrganised(r.FinalMode));
        var verdict = falling >= SupportedShare * runs.Count && runs.Count >= 3 ? Verdict.Supported
            : falling > 0 ? Verdict.PartlySupported
            : runs.Count >= 3 ? Verdict.NotSupported
            : Verdict.Inconclusive;
        int anyFall = runs.Count(r => r.Stages.Any(s => s.Valid && s.Falls));
        string evidence = $"development analysed in **{runs.Count} runs**: the LLC falls clearly (by more than twice its spread over chains) in a stage with valid (positive) estimates in {falling} " +
                          $"(falls at all in {anyFall}), " +
                          $"ending organised in {organisedAfterFall}; {throughOverlap} pass through overlapping heads before ending organised; " +
                          $"stages per run {string.Join("/", runs.Select(r => r.Stages.Count))} " +
                          $"[ours: supported if ≥ {SupportedShare:P0} of ≥ 3 runs show a valid, clearly falling LLC stage, partly if any does]";
        return (verdict, evidence);
    }

    static bool IsOrganised(SortingMode mode) => mode is SortingMode.VocabularySplitting or SortingMode.CopySuppression;

    public static void Write(ReportBuilder report, IReadOnlyList<DevelopmentRun> runs, IReadOnlyList<string> unreadable, string figures)
    {
        if (runs.Count == 0 && unreadable.Count == 0) return;
        report.Heading("Development over training (claim 6, the stages)")
            .Paragraph("For each run analysed with `analyze --run DIR --development`: every checkpoint's validation loss and LLC (the run's fixed SGLD settings), " +
                       "stage boundaries where the LLC smoothed over 3 neighbouring checkpoints changes the sign of its slope, and the mode at each checkpoint. " +
                       "A stage is *valid* when all its LLC estimates are positive: before the loss has settled the chains descend instead of exploring a basin, " +
                       "and negative estimates say nothing about simplicity. ↑ / ↓: the smoothed LLC rises / falls across the stage; a fall counts as clear when it exceeds twice " +
                       "the spread of the estimate over SGLD chains at the stage's ends (± in the table).");
        if (unreadable.Count > 0) report.Paragraph("Unreadable development files (left out): " + string.Join("; ", unreadable));
        if (runs.Count == 0) return;
        report.Table(["run", "checkpoints", "stage boundaries (steps)", "stages: steps, LLC start → end (± spread)", "modes over training", "first valid, clearly falling stage"],
            runs.Select(r => (IReadOnlyList<object?>)
            [
                $"{r.Setting.Name}/seed-{r.Seed}", r.Points.Count,
                string.Join(", ", r.Stages.Skip(1).Select(s => s.FirstStep)),
                string.Join("; ", r.Stages.Select(s => $"{s.FirstStep}–{s.LastStep} {(s.Falls ? "↓" : "↑")} {F0(s.LlcStart)} → {F0(s.LlcEnd)} (± {F0(s.Noise)}){(s.Valid ? "" : ", invalid")}")),
                string.Join(" → ", r.ModeSequence.Select(SettingSummary.Label)),
                r.FirstValidFallingStage is { } f ? $"{f.FirstStep}–{f.LastStep}: {F0(f.LlcStart)} → {F0(f.LlcEnd)}, ends {SettingSummary.Label(f.Modes[^1])}" : "none",
            ]));
        string llc = Path.Combine(figures, "sweep_development_llc.png"), loss = Path.Combine(figures, "sweep_development_loss.png");
        Figures.Lines(llc, runs.Select(r => new Series($"{r.Setting.Name}/seed-{r.Seed}", Steps(r), r.Points.Select(p => p.Llc).ToArray())).ToList(),
            "LLC over training", "step", "λ̂ (mean over chains)", logX: true);
        Figures.Lines(loss, runs.Select(r => new Series($"{r.Setting.Name}/seed-{r.Seed}", Steps(r), r.Points.Select(p => p.ValLoss).ToArray())).ToList(),
            "Validation loss over training", "step", "cross-entropy (nats)", logX: true, logY: true);
        report.Figure(llc, "LLC over training, one line per run").Figure(loss, "Validation loss over training, one line per run");
    }

    static double[] Steps(DevelopmentRun run) => run.Points.Select(p => (double)p.Step).ToArray();

    static string F0(double v) => double.IsFinite(v) ? v.ToString("F0", CultureInfo.InvariantCulture) : "–";
}
