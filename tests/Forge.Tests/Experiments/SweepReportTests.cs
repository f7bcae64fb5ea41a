using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Reports;
using Forge.Experiments.Sorting;
using Forge.Experiments.Sorting.Sweep;

namespace Forge.Tests.Experiments;

/// <summary>The sweep report on hand-written run folders: grouping, fractions, LLC by mode, claims.</summary>
public class SweepReportTests
{
    static readonly SortingSetting B = SortingSetting.Base;

    [Test]
    public void RunsAreFoundRecursivelyAndGroupedBySetting()
    {
        using var temp = new TempFolder();
        FakeSortingRun.Write(temp.Combine("a", "base", "seed-0"), B, 0, SortingMode.VocabularySplitting);
        FakeSortingRun.Write(temp.Combine("b", "deep", "x", "seed-1"), B, 1, SortingMode.Overlapping, acc: 0.98, llc: 70);
        FakeSortingRun.Write(temp.Combine("a", "wd-0", "seed-0"), B with { WeightDecay = 0 }, 0, SortingMode.CopySuppression);
        FakeSortingRun.Write(temp.Combine("a", "wd-0", "seed-1"), B with { WeightDecay = 0 }, 1, null);   // unfinished
        File.WriteAllText(temp.Combine("a", "notes.json"), "{}");

        var (runs, unfinished) = FinishedRun.FindAll([temp.Combine("a"), temp.Combine("b")]);
        Assert.That(runs, Has.Count.EqualTo(3));
        Assert.That(unfinished, Has.Count.EqualTo(1).And.Some.EndsWith(Path.Combine("wd-0", "seed-1")));
        var settings = SettingSummary.Of(runs);
        Assert.That(settings.Select(s => s.Setting.Name), Is.EqualTo(new[] { "base", "wd-0" }));
        var b = settings[0];
        Assert.That(b.Seeds, Is.EqualTo(2));
        Assert.That(b.Fraction(SortingMode.VocabularySplitting), Is.EqualTo(0.5));
        Assert.That(b.FractionText(SortingMode.Overlapping), Is.EqualTo("0.50 (1/2)"));
        Assert.That(b.MedianAccuracy, Is.EqualTo((0.999 + 0.98) / 2).Within(1e-12));
        Assert.That(b.MinAccuracy, Is.EqualTo(0.98));
        Assert.That(b.LlcByModeText(), Is.EqualTo("splitting 50.0 (n=1); overlapping 70.0 (n=1)"));
    }

    [Test]
    public void ClaimsAreJudgedOnTheAggregatedRunsWithTheirCounts()
    {
        var runs = new List<FinishedRun>();
        void Add(SortingSetting s, int seeds, Func<int, SortingMode> mode, Func<int, double>? llc = null, double acc = 0.999, double? delta = null)
        {
            for (int i = 0; i < seeds; i++)
                runs.Add(new FinishedRun($"/r/{s.Name}/{i}", s, (ulong)i, mode(i), acc, 0.04, llc?.Invoke(i) ?? 50, 1, false,
                    mode(i) == SortingMode.CopySuppression ? delta : null, "", false));
        }
        Add(B, 5, i => i < 4 ? SortingMode.VocabularySplitting : SortingMode.Overlapping, i => i < 4 ? 40 + i : 60);
        Add(B with { WeightDecay = 0 }, 5, i => i < 2 ? SortingMode.VocabularySplitting : i < 4 ? SortingMode.CopySuppression : SortingMode.Overlapping,
            i => i < 4 ? 45 : 55, delta: 0.03);
        Add(B with { MaxValue = 30 }, 4, _ => SortingMode.Overlapping);
        Add(B with { ListLength = 15 }, 4, _ => SortingMode.Overlapping);
        Add(B with { Heads = 1 }, 2, _ => SortingMode.SingleHead, acc: 0.95);

        var claims = SweepClaims.Evaluate(SettingSummary.Of(runs));
        Assert.That(claims.Select(c => c.Claim[..2]), Is.EqualTo(new[] { "1.", "2.", "3.", "4.", "5.", "6." }));
        Assert.That(claims[0].Verdict, Is.EqualTo(Verdict.Supported));
        Assert.That(claims[0].Evidence, Does.Contain("**5 seeds**"));
        // 8 of 18 multi-head runs organised (base 4 of 5, wd-0 4 of 5, δ̄ settings 0 of 8): 0.44 < 0.5.
        Assert.That(claims[1].Verdict, Is.EqualTo(Verdict.NotSupported));
        Assert.That(claims[1].Evidence, Does.Contain("8 of **18 multi-head runs**"));
        Assert.That(claims[2].Verdict, Is.EqualTo(Verdict.Supported), claims[2].Evidence);   // lower in base and wd-0
        Assert.That(claims[2].Evidence, Does.Contain("2 of 2 settings").And.Contain("**10 runs**"));
        Assert.That(claims[3].Verdict, Is.EqualTo(Verdict.Supported));
        Assert.That(claims[3].Evidence, Does.Contain("2 of **5 runs without**").And.Contain("4 of **5 runs with**"));
        Assert.That(claims[4].Verdict, Is.EqualTo(Verdict.Supported));
        Assert.That(claims[4].Evidence, Does.Contain("**2 copy-suppression runs**"));
        // δ̄ settings: max-30 (2.91) and n-15 (3.25) all overlapping, base (4.73) 4 of 5 splitting: mode depends on δ̄.
        Assert.That(claims[5].Verdict, Is.EqualTo(Verdict.PartlySupported), claims[5].Evidence);
        Assert.That(claims[5].Evidence, Does.Contain("**13 runs**").And.Contain("stages: not tested"));
    }

    [Test]
    public void WithoutEvidenceClaimsAreNotTestedOrInconclusive()
    {
        var one = new FinishedRun("/r/x", B with { Heads = 3 }, 0, SortingMode.Overlapping, 0.5, 1, 10, 1, false, null, "", false);
        var claims = SweepClaims.Evaluate(SettingSummary.Of([one]));
        Assert.That(claims.Select(c => c.Verdict), Is.EqualTo(new[]
        {
            Verdict.NotTested, Verdict.Inconclusive, Verdict.Inconclusive, Verdict.NotTested, Verdict.NotTested, Verdict.NotTested,
        }));
        Assert.That(SweepClaims.Evaluate([]).All(c => c.Verdict is Verdict.NotTested or Verdict.Inconclusive));
    }

    [Test]
    public void StatisticsMatchHandComputedValues()
    {
        Assert.That(SweepStats.Median([3, 1, 2]), Is.EqualTo(2));
        Assert.That(SweepStats.Median([4, 1, 2, 3]), Is.EqualTo(2.5));
        Assert.That(SweepStats.Median([]), Is.NaN);
        Assert.That(SweepStats.MeanStd([1, 2, 3]), Is.EqualTo((2.0, 1.0, 3)));
        Assert.That(SweepStats.Spearman([1, 2, 3, 4], [10, 20, 35, 40]), Is.EqualTo(1).Within(1e-12));
        Assert.That(SweepStats.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), Is.EqualTo(-1).Within(1e-12));
        Assert.That(SweepStats.Spearman([1, 2, 3], [5, 5, 5]), Is.NaN);
        Assert.That(SweepStats.SignTest(5, 5), Is.EqualTo(2.0 / 32).Within(1e-12));
        Assert.That(SweepStats.SignTest(2, 4), Is.EqualTo(1));
        int[] groups = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        var separated = SweepStats.PermutationTest(groups, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
        Assert.That(separated.ChiSquare, Is.EqualTo(12).Within(1e-9));
        Assert.That(separated.PValue, Is.LessThan(0.01));
        Assert.That(SweepStats.PermutationTest(groups, [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0]).PValue, Is.GreaterThan(0.5));
    }

    [Test]
    public void TheReportHasTablesFiguresClaimsAndTheSuppressorAblation()
    {
        using var temp = new TempFolder();
        for (int s = 0; s < 3; s++)
        {
            FakeSortingRun.Write(temp.Combine("base", $"seed-{s}"), B, (ulong)s, SortingMode.VocabularySplitting, llc: 40 + s);
            FakeSortingRun.Write(temp.Combine("wd-0", $"seed-{s}"), B with { WeightDecay = 0 }, (ulong)s,
                s == 0 ? SortingMode.CopySuppression : SortingMode.VocabularySplitting, suppressorDelta: 0.042);
            FakeSortingRun.Write(temp.Combine("gap-3", $"seed-{s}"), B with { GapMean = 3 }, (ulong)s, SortingMode.Overlapping, llc: 60);
        }
        Assert.That(FinishedRun.Read(temp.Combine("wd-0", "seed-0"))!.SuppressorDeltaConfidence, Is.EqualTo(0.042), "read from report.md's ablation table");

        var output = new StringWriter();
        string path = new SortingSweep().WriteReport([temp.Path], temp.Combine("out"), output);
        Assert.That(output.ToString(), Does.Contain("9 finished sorting runs in 3 settings"));
        string report = File.ReadAllText(path);
        Assert.That(report, Does.Contain("| claim | verdict | evidence |").And.Contain("## Weight decay").And.Contain("## δ̄ via controlled gaps"));
        Assert.That(report, Does.Contain("| 0 (wd-0) | 3 | 4.73 | 0 | 0.67 (2/3) | 0.33 (1/3) | 0 |"));
        Assert.That(report, Does.Contain("Every run used the paper's recipe"));
        Assert.That(report, Does.Contain("0.0420"), "claim 5 uses the suppressor's Δ confidence");
        foreach (var figure in new[] { "sweep_modes_weight-decay.png", "sweep_modes_gaps.png", "sweep_llc_by_mode.png", "sweep_accuracy.png" })
        {
            Assert.That(report, Does.Contain("figures/" + figure));
            Assert.That(new FileInfo(temp.Combine("out", "figures", figure)).Length, Is.GreaterThan(1000), figure);
        }
    }
}

/// <summary>Hand-written sorting run folders: config.json, and for finished runs summary.json, analysis.json and report.md.</summary>
static class FakeSortingRun
{
    /// <param name="mode">The final mode; null writes an interrupted run (config.json only).</param>
    public static void Write(string folder, SortingSetting setting, ulong seed, SortingMode? mode, double acc = 0.999, double llc = 50,
        bool trainedOnly = false, double? suppressorDelta = null)
    {
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["experiment"] = "sorting", ["seed"] = seed, ["steps"] = 7325, ["threads"] = 2,
            ["weight_decay"] = setting.WeightDecay, ["max_value"] = setting.MaxValue, ["list_length"] = setting.ListLength,
            ["gap_mean"] = setting.GapMean, ["heads"] = setting.Heads, ["layer_norm"] = setting.LayerNorm,
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        if (mode is null) return;
        File.WriteAllText(Path.Combine(folder, "summary.json"), """{"steps": 7325}""");
        if (trainedOnly) return;
        var analysis = new JsonObject
        {
            ["headline"] = $"{mode}, val acc {acc.ToString("F4", CultureInfo.InvariantCulture)}, LLC {llc.ToString("F1", CultureInfo.InvariantCulture)} ± 1.5",
            ["mode"] = mode.ToString(), ["val_loss"] = 0.04, ["val_acc"] = acc, ["llc_mean"] = llc, ["llc_std"] = 1.5, ["llc_diverged"] = false,
            ["suppression_pair"] = mode == SortingMode.CopySuppression ? "0->1" : null,
        };
        File.WriteAllText(Path.Combine(folder, "analysis.json"), analysis.ToJsonString());
        string delta = (suppressorDelta ?? 0).ToString("F4", CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(folder, "report.md"),
            "## Ablations\n\n| head | ablation | Δ loss | Δ accuracy | Δ mean entropy | Δ mean confidence |\n| --- | --- | --- | --- | --- | --- |\n" +
            "| 0 | zero | 1.0 | -0.5 | 0.3 | -0.2000 |\n| 0 | mean | 0.9 | -0.4 | 0.3 | -0.1000 |\n" +
            $"| 1 | zero | 0.1 | -0.01 | -0.05 | 0.0100 |\n| 1 | mean | 0.1 | -0.01 | -0.05 | {delta} |\n");
    }
}
