using System.Globalization;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// sweep-report.md: the finished sorting runs found under some folders, grouped by setting — per
/// sweep group a table (seeds, δ̄, fraction of seeds per final mode, accuracy, LLC by mode) and a
/// stacked-bar figure, the mode fractions against δ̄, the LLC and accuracy of every run, and the
/// paper's claims 1–6 with verdicts over all runs (and where they disagree with the paper).
/// </summary>
public static class SweepReport
{
    public const string FileName = "sweep-report.md";

    /// <summary>Writes the report (and its figures under <c>figures/</c>) into <paramref name="outDir"/>; returns the report's path.</summary>
    public static string Write(string outDir, IReadOnlyList<FinishedRun> runs, IReadOnlyList<string> unfinished, IReadOnlyList<string> searched)
    {
        outDir = Path.GetFullPath(outDir);
        string figures = Path.Combine(outDir, "figures");
        Directory.CreateDirectory(figures);
        var settings = SettingSummary.Of(runs);
        var (developments, unreadable) = DevelopmentSection.Read(runs);
        var claims = SweepClaims.Evaluate(settings, developments);
        var report = new ReportBuilder(outDir);
        Introduction(report, runs, unfinished, searched, outDir, settings.Count);
        report.Heading("The paper's claims: verdicts over the sweep").Claims(claims);
        Disagreements(report, claims);
        if (settings.Count > 0)
        {
            GapSection(report, settings, figures);
            foreach (var group in SweepGroup.All) GroupSection(report, group, settings, figures);
            OtherSettings(report, settings);
            DevelopmentSection.Write(report, developments, unreadable, figures);
            report.Heading("LLC and accuracy of every run");
            SweepFigures.LlcByMode(Path.Combine(figures, "sweep_llc_by_mode.png"), settings);
            SweepFigures.Accuracy(Path.Combine(figures, "sweep_accuracy.png"), settings);
            report.Figure(Path.Combine(figures, "sweep_llc_by_mode.png"), "Final LLC of each run (one dot per seed), by setting and mode")
                .Figure(Path.Combine(figures, "sweep_accuracy.png"), "Validation accuracy of each run, by setting and mode");
            RunTable(report, runs, outDir);
        }
        string path = Path.Combine(outDir, FileName);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, report.ToString());
        return path;
    }

    static void Introduction(ReportBuilder report, IReadOnlyList<FinishedRun> runs, IReadOnlyList<string> unfinished, IReadOnlyList<string> searched, string outDir, int settings)
    {
        report.Heading("Sorting sweep", 1)
            .Paragraph($"{runs.Count} finished sorting runs in {settings} settings, found under {RunSearch.Describe(searched, outDir)}." +
                       (unfinished.Count == 0 ? "" : $" {unfinished.Count} unfinished run folders (no analysis.json) are left out{(unfinished.Count <= 10 ? ": " + string.Join(", ", unfinished.Select(u => $"`{u}`")) : "")}."));
        var recipes = runs.GroupBy(r => r.OtherSettings).OrderByDescending(g => g.Count()).ToList();
        if (recipes.Count == 1)
            report.Paragraph(recipes[0].Key.Length == 0 ? "Every run used the paper's recipe apart from its setting."
                : $"Every run changed the paper's recipe (besides its setting) in: `{recipes[0].Key}` — verdicts are about that recipe, not the paper's.");
        else if (recipes.Count > 1)
            report.Paragraph("**The runs followed different recipes** (besides their settings); runs of one setting are pooled regardless:")
                .Bullets(recipes.Select(g => $"{g.Count()} runs: {(g.Key.Length == 0 ? "the paper's recipe" : $"`{g.Key}`")}"));
        report.Paragraph("A setting is the values of weight_decay, max_value, list_length, gap_mean, heads and layer_norm; its name lists what differs from the base recipe " +
                         "(wd 0.005, max_value 50, n 10, uniform lists, 2 heads, LayerNorm). Modes come from each run's mode classifier [ours] (OV copy scores; see a run's report.md). " +
                         "LLC: each run's final LLC, mean over its SGLD chains; diverged estimates are left out of LLC statistics. " +
                         "δ̄: E[δ] = (M+1)/(n+1) for uniform lists; for controlled gaps, the mean gap of the generator's lists (sampled; below the nominal gap mean, since lists that do not fit are redrawn).");
    }

    static void Disagreements(ReportBuilder report, IReadOnlyList<ClaimVerdict> claims)
    {
        report.Heading("Where this replication disagrees with the paper", 3);
        var against = claims.Where(c => c.Verdict is Verdict.NotSupported or Verdict.PartlySupported).ToList();
        var open = claims.Where(c => c.Verdict is Verdict.Inconclusive or Verdict.NotTested).Select(c => c.Claim.Split(' ')[0].TrimEnd('.')).ToList();
        if (against.Count == 0) report.Paragraph("No claim is contradicted by these runs.");
        else report.Bullets(against.Select(c => $"Claim {c.Claim} — **{ClaimVerdict.Text(c.Verdict)}**: {c.Evidence}"));
        if (open.Count > 0) report.Paragraph($"Not decided by these runs (inconclusive or not tested): claim{(open.Count > 1 ? "s" : "")} {string.Join(", ", open)}.");
    }

    static void GapSection(ReportBuilder report, IReadOnlyList<SettingSummary> settings, string figures)
    {
        var gap = settings.Where(s => SweepGroup.IsGapSetting(s.Setting)).OrderBy(s => s.Setting.MeanGap).ToList();
        if (gap.Count < 2) return;
        string path = Path.Combine(figures, "sweep_modes_vs_gap.png");
        SweepFigures.ModeFractions(path, gap, gap.Select(s => $"δ̄={F2(s.Setting.MeanGap)}\n{s.Setting.Name}").ToList(), "Final mode against the mean gap δ̄");
        report.Heading("Final mode against δ̄ (claim 6)")
            .Paragraph("Every setting that changes only the training lists (max_value, list length, controlled gaps), ordered by δ̄.")
            .Table(Header("setting"), gap.Select(s => Row(s, s.Setting.Name)))
            .Figure(path, "Fraction of seeds in each final mode against δ̄");
    }

    static void GroupSection(ReportBuilder report, SweepGroup group, IReadOnlyList<SettingSummary> settings, string figures)
    {
        var covered = settings.Where(s => group.Covers(s.Setting)).OrderBy(s => s.Setting.Value(group.Dimension)).ThenBy(s => s.Setting.MeanGap).ToList();
        if (covered.Count < 2) return;   // the base alone is not a comparison
        string path = Path.Combine(figures, $"sweep_modes_{group.Name}.png");
        var labels = covered.Select(s => group.Label(s.Setting)).ToList();
        SweepFigures.ModeFractions(path, covered, labels, $"Final mode: {group.Title}");
        report.Heading(group.Title)
            .Table(Header(group.ValueName), covered.Select((s, i) => Row(s, $"{labels[i]} ({s.Setting.Name})")))
            .Figure(path, $"Fraction of seeds in each final mode — {group.Title}");
    }

    static void OtherSettings(ReportBuilder report, IReadOnlyList<SettingSummary> settings)
    {
        var others = settings.Where(s => !SweepGroup.All.Any(g => g.Covers(s.Setting))).ToList();
        if (others.Count == 0) return;
        report.Heading("Other settings").Paragraph("Settings that change more than one dimension of the base recipe.")
            .Table(Header("setting"), others.Select(s => Row(s, s.Setting.Name)));
    }

    static string[] Header(string first) =>
        [first, "seeds", "δ̄", .. SettingSummary.Modes.Select(m => m.Label), "val acc median (min)", "LLC by mode (mean ± std over seeds)"];

    static IReadOnlyList<object?> Row(SettingSummary s, string name) =>
        [name, s.Seeds, F2(s.Setting.MeanGap), .. SettingSummary.Modes.Select(m => s.FractionText(m.Mode)),
            $"{F4(s.MedianAccuracy)} ({F4(s.MinAccuracy)})", s.LlcByModeText()];

    static void RunTable(ReportBuilder report, IReadOnlyList<FinishedRun> runs, string outDir)
    {
        report.Heading("Every run")
            .Table(["setting", "seed", "mode", "val acc", "val loss", "LLC", "run"], runs.Select(r => (IReadOnlyList<object?>)
            [
                r.Setting.Name, r.Seed, SettingSummary.Label(r.Mode), F4(r.ValAcc), F4(r.ValLoss),
                r.Llc is null ? "diverged" : $"{F1(r.LlcMean)} ± {F1(r.LlcStd)}",
                RunLink(r.Folder, outDir),
            ]));
    }

    /// <summary>
    /// A link to the run's report when the run lies under the report's folder (a sweep root), else the
    /// run's last two folder names as text: a report copied elsewhere (docs/) must not point at one
    /// machine's folders.
    /// </summary>
    static string RunLink(string runFolder, string outDir)
    {
        string relative = Path.GetRelativePath(outDir, runFolder).Replace('\\', '/');
        if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
            return $"[report]({relative.Replace(" ", "%20")}/report.md)";
        var parts = runFolder.TrimEnd(Path.DirectorySeparatorChar).Split(Path.DirectorySeparatorChar);
        return $"`{string.Join('/', parts.TakeLast(2))}`";
    }

    static string F1(double v) => double.IsFinite(v) ? v.ToString("F1", CultureInfo.InvariantCulture) : "–";
    static string F2(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
    static string F4(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
}
