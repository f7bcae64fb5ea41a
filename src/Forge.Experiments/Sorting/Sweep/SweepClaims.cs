using System.Globalization;
using Forge.Experiments.Reports;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The paper's claims 1–6 (shared/papers/sorting.md) judged on the aggregated runs of a sweep. Every
/// verdict names the number of runs (seeds) behind it. The thresholds are [ours] and stated in the
/// evidence: a verdict is only as good as the mode classifier and the number of seeds.
/// </summary>
public static class SweepClaims
{
    /// <summary>Accuracy of the public reference run, rounded: what claim 1 asks of the base recipe.</summary>
    public const double ReferenceAccuracy = 0.998;
    /// <summary>A change of mean confidence this large counts as a change (claim 5).</summary>
    public const double ConfidenceChange = 0.01;

    public static IReadOnlyList<ClaimVerdict> Evaluate(IReadOnlyList<SettingSummary> settings, IReadOnlyList<DevelopmentRun>? developments = null) =>
        [Sorts(settings), Organises(settings), Simpler(settings), WeightDecay(settings), Calibrates(settings), StagesAndGap(settings, developments ?? [])];

    static ClaimVerdict Sorts(IReadOnlyList<SettingSummary> settings)
    {
        const string claim = "1. A 1-layer attention-only transformer learns to sort";
        var all = settings.SelectMany(s => s.Runs).ToList();
        var b = settings.FirstOrDefault(s => s.Setting.IsBase);
        if (b is null) return new(claim, Verdict.NotTested, $"no finished base-recipe run ({all.Count} runs of other settings)");
        double median = b.MedianAccuracy;
        var verdict = median >= ReferenceAccuracy ? Verdict.Supported : median >= 0.99 ? Verdict.PartlySupported : Verdict.NotSupported;
        int below = all.Count(r => r.ValAcc < 0.99);
        return new(claim, verdict,
            $"base recipe: median validation accuracy {F4(median)} (min {F4(b.MinAccuracy)}) over **{b.Seeds} seeds**, {b.Runs.Count(r => r.ValAcc >= ReferenceAccuracy)} of them ≥ {ReferenceAccuracy} " +
            $"(paper's reference ≈ 0.9989); all settings: median {F4(SweepStats.Median(all.Select(r => r.ValAcc)))} over {all.Count} runs, {below} below 0.99");
    }

    static ClaimVerdict Organises(IReadOnlyList<SettingSummary> settings)
    {
        const string claim = "2. Heads end in vocabulary-splitting or copy-suppression";
        var multi = settings.Where(s => s.Setting.Heads >= 2).ToList();
        var runs = multi.SelectMany(s => s.Runs).ToList();
        if (runs.Count == 0) return new(claim, Verdict.NotTested, "no finished run with ≥ 2 heads");
        int split = runs.Count(r => r.Mode == SortingMode.VocabularySplitting), suppress = runs.Count(r => r.Mode == SortingMode.CopySuppression);
        double share = (double)(split + suppress) / runs.Count;
        var verdict = runs.Count < 3 ? Verdict.Inconclusive : share >= 0.8 ? Verdict.Supported : share >= 0.5 ? Verdict.PartlySupported : Verdict.NotSupported;
        var worst = multi.OrderBy(s => s.Fraction(SortingMode.VocabularySplitting) + s.Fraction(SortingMode.CopySuppression)).First();
        var b = settings.FirstOrDefault(s => s.Setting.IsBase);
        string baseText = b is null ? "" : $"; base recipe {Organised(b)}/{b.Seeds}";
        return new(claim, verdict,
            $"{split + suppress} of **{runs.Count} multi-head runs** ({F2(share)}) over {multi.Count} settings: {split} splitting, {suppress} suppression, " +
            $"{runs.Count - split - suppress} overlapping{baseText}; lowest: {worst.Setting.Name} {Organised(worst)}/{worst.Seeds} [ours: supported ≥ 0.8, partly ≥ 0.5]");
    }

    static int Organised(SettingSummary s) => s.Runs.Count(r => r.IsOrganised);

    static ClaimVerdict Simpler(IReadOnlyList<SettingSummary> settings)
    {
        const string claim = "3. Both modes are simpler (lower LLC) than overlapping heads";
        var comparisons = new List<(string Setting, double Organised, double Overlapping, int Runs)>();
        foreach (var s in settings)
        {
            var organised = SweepStats.MeanStd(s.Runs.Where(r => r.IsOrganised && r.Llc is not null).Select(r => r.Llc!.Value));
            var overlapping = s.Llc(SortingMode.Overlapping);
            if (organised.Count > 0 && overlapping.Count > 0)
                comparisons.Add((s.Setting.Name, organised.Mean, overlapping.Mean, organised.Count + overlapping.Count));
        }
        var all = settings.SelectMany(s => s.Runs).ToList();
        var pooledOrganised = SweepStats.MeanStd(all.Where(r => r.IsOrganised && r.Llc is not null).Select(r => r.Llc!.Value));
        var pooledOverlapping = SweepStats.MeanStd(all.Where(r => r.Mode == SortingMode.Overlapping && r.Llc is not null).Select(r => r.Llc!.Value));
        string pooled = $"pooled over settings (not comparable, settings change the LLC scale): organised {F1(pooledOrganised.Mean)} (n={pooledOrganised.Count}), overlapping {F1(pooledOverlapping.Mean)} (n={pooledOverlapping.Count})";
        int runs = comparisons.Sum(c => c.Runs);
        if (comparisons.Count == 0 || runs < 4)
            return new(claim, Verdict.Inconclusive,
                $"{comparisons.Count} setting(s) with both organised and overlapping runs ({runs} runs) — too few to compare within settings; {pooled}");
        int lower = comparisons.Count(c => c.Organised < c.Overlapping), m = comparisons.Count;
        double share = (double)lower / m;
        var verdict = m >= 2 && lower == m ? Verdict.Supported : share >= 0.75 ? Verdict.PartlySupported : share <= 0.25 ? Verdict.NotSupported : Verdict.Inconclusive;
        string detail = string.Join("; ", comparisons.Select(c => $"{c.Setting}: {F1(c.Organised)} vs {F1(c.Overlapping)}"));
        return new(claim, verdict,
            $"organised runs have the lower mean LLC in {lower} of {m} settings where both occur (**{runs} runs**; sign test p = {F2(SweepStats.SignTest(lower, m))}): {detail}; {pooled} " +
            "[ours: supported if lower in all (≥ 2) settings, partly if in ≥ 75 %, not supported if in ≤ 25 %]");
    }

    static ClaimVerdict WeightDecay(IReadOnlyList<SettingSummary> settings)
    {
        const string claim = "4. Vocabulary-splitting appears with and without weight decay";
        var group = SweepGroup.All.First(g => g.Dimension == SweepDimension.WeightDecay);
        var covered = settings.Where(s => group.Covers(s.Setting)).OrderBy(s => s.Setting.WeightDecay).ToList();
        var without = covered.Where(s => s.Setting.WeightDecay == 0).SelectMany(s => s.Runs).ToList();
        var with = covered.Where(s => s.Setting.WeightDecay > 0).SelectMany(s => s.Runs).ToList();
        string detail = string.Join("; ", covered.Select(s => $"wd {SortingSetting.Number(s.Setting.WeightDecay)}: {s.Count(SortingMode.VocabularySplitting)}/{s.Seeds} splitting"));
        if (without.Count == 0 || with.Count == 0)
            return new(claim, Verdict.NotTested, $"needs finished runs with weight decay 0 and > 0 (have {without.Count} and {with.Count}); {detail}");
        int splitWithout = without.Count(r => r.Mode == SortingMode.VocabularySplitting), splitWith = with.Count(r => r.Mode == SortingMode.VocabularySplitting);
        var verdict = splitWithout > 0 && splitWith > 0 ? Verdict.Supported
            : (splitWithout == 0 && without.Count >= 3) || (splitWith == 0 && with.Count >= 3) ? Verdict.NotSupported
            : Verdict.Inconclusive;
        return new(claim, verdict, $"splitting in {splitWithout} of **{without.Count} runs without** and {splitWith} of **{with.Count} runs with** weight decay: {detail}");
    }

    static ClaimVerdict Calibrates(IReadOnlyList<SettingSummary> settings)
    {
        const string claim = "5. Copy-suppression calibrates the copying head";
        var suppression = settings.SelectMany(s => s.Runs).Where(r => r.Mode == SortingMode.CopySuppression).ToList();
        var deltas = suppression.Where(r => r.SuppressorDeltaConfidence is not null).Select(r => r.SuppressorDeltaConfidence!.Value).ToList();
        if (suppression.Count == 0) return new(claim, Verdict.NotTested, "no run ended in copy-suppression");
        if (deltas.Count == 0) return new(claim, Verdict.NotTested, $"{suppression.Count} copy-suppression runs, but none records the suppressor ablation");
        var (mean, std, n) = SweepStats.MeanStd(deltas);
        bool sameSign = deltas.All(d => d > 0) || deltas.All(d => d < 0);
        bool allChange = deltas.All(d => Math.Abs(d) >= ConfidenceChange);
        var verdict = n < 2 ? Verdict.Inconclusive
            : allChange && sameSign ? Verdict.Supported
            : deltas.All(d => Math.Abs(d) < ConfidenceChange) ? Verdict.NotSupported
            : Verdict.PartlySupported;
        return new(claim, verdict,
            $"mean-ablating the suppressor changes mean confidence by {F4(mean)} ± {F4(std)} (range {F4(deltas.Min())} … {F4(deltas.Max())}) over **{n} copy-suppression runs** " +
            $"({(mean > 0 ? "more" : "less")} confident without it) [ours: a change is |Δ| ≥ {ConfidenceChange}]; calibration curves: each run's report.md");
    }

    /// <summary>Claim 6 has two halves, judged apart and then combined: the stages (<see cref="DevelopmentSection.StageHalf"/>) and δ̄ deciding the mode.</summary>
    static ClaimVerdict StagesAndGap(IReadOnlyList<SettingSummary> settings, IReadOnlyList<DevelopmentRun> developments)
    {
        const string claim = "6. Development in stages; the gap statistic δ̄ decides the mode";
        var (stageVerdict, stageEvidence) = DevelopmentSection.StageHalf(developments);
        var (gapVerdict, gapEvidence) = GapDecides(settings);
        return new(claim, Combine(stageVerdict, gapVerdict),
            $"**stages: {ClaimVerdict.Text(stageVerdict)}** — {stageEvidence}. **δ̄: {ClaimVerdict.Text(gapVerdict)}** — {gapEvidence}");
    }

    /// <summary>Both halves alike: that verdict; any half (partly) supported: partly; a half contradicted, the other open: not supported; else inconclusive.</summary>
    public static Verdict Combine(Verdict a, Verdict b)
    {
        if (a == b) return a == Verdict.PartlySupported ? Verdict.PartlySupported : a;
        bool anySupport = a is Verdict.Supported or Verdict.PartlySupported || b is Verdict.Supported or Verdict.PartlySupported;
        if (anySupport) return Verdict.PartlySupported;
        return a == Verdict.NotSupported || b == Verdict.NotSupported ? Verdict.NotSupported : Verdict.Inconclusive;
    }

    static (Verdict, string) GapDecides(IReadOnlyList<SettingSummary> settings)
    {
        var gap = settings.Where(s => SweepGroup.IsGapSetting(s.Setting)).OrderBy(s => s.Setting.MeanGap).ToList();
        int runs = gap.Sum(s => s.Seeds);
        if (gap.Count < 3) return (Verdict.NotTested, $"needs ≥ 3 δ̄ settings (have {gap.Count}, {runs} runs)");
        var gaps = gap.Select(s => s.Setting.MeanGap).ToList();
        var moves = SettingSummary.Modes
            .Select(m => (m.Label, Fractions: gap.Select(s => s.Fraction(m.Mode)).ToList()))
            .Select(m => (m.Label, Range: m.Fractions.Max() - m.Fractions.Min(), Rho: SweepStats.Spearman(gaps, m.Fractions)))
            .OrderByDescending(m => m.Range).ToList();
        var top = moves[0];
        var runsOf = gap.SelectMany((s, i) => s.Runs.Select(r => (Group: i, Label: (int)r.Mode))).ToList();
        var (_, p) = SweepStats.PermutationTest(runsOf.Select(r => r.Group).ToList(), runsOf.Select(r => r.Label).ToList());
        bool enoughSeeds = gap.All(s => s.Seeds >= 3);
        var verdict = p < 0.05 ? Verdict.Supported
            : top.Range <= 0.2 && enoughSeeds ? Verdict.NotSupported
            : Verdict.Inconclusive;
        string table = string.Join("; ", gap.Select(s => $"δ̄ {F2(s.Setting.MeanGap)} ({s.Setting.Name}): " +
            string.Join("/", SettingSummary.Modes.Where(m => m.Mode != SortingMode.SingleHead).Select(m => s.Count(m.Mode))) + $" of {s.Seeds}"));
        return (verdict,
            $"over {gap.Count} δ̄ settings (**{runs} runs**; splitting/suppression/overlapping counts): {table}. Mode depends on the δ̄ setting: permutation χ² test p = {F3(p)}; " +
            $"largest change: {top.Label} fraction varies by {F2(top.Range)} (Spearman ρ with δ̄ {F2(top.Rho)}) " +
            "[ours: supported if p < 0.05; not supported if no fraction moves more than 0.2 with ≥ 3 seeds each]");
    }

    static string F1(double v) => double.IsFinite(v) ? v.ToString("F1", CultureInfo.InvariantCulture) : "–";
    static string F2(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
    static string F3(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "–";
    static string F4(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
}
