using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Sorting;
using Forge.Experiments.Sorting.Sweep;
using Forge.Experiments.Sweeps;

namespace Forge.Tests.Experiments;

/// <summary>The sorting sweep's plan: groups, the shared base setting, folders, seeds and run arguments.</summary>
public class SweepPlanTests
{
    static readonly SortingSetting B = SortingSetting.Base;
    static readonly SortingExperiment Sorting = new();

    [Test]
    public void AllGroupsGiveFifteenSettingsWithSharedSettingsOnceAndTheBaseFirst()
    {
        var plan = SweepPlan.Create(Sorting, Sorting.Sweep, "/tmp/sweep-root", null, 5, 0, []);
        Assert.That(plan.Settings.Select(s => s.Name), Is.EqualTo(new[]
        {
            "base", "wd-0", "wd-0.05", "max-30", "max-100", "n-5", "n-15", "gap-1.5", "gap-3", "gap-5", "heads-1", "heads-3", "heads-4", "no-ln", "wd-0_no-ln",
        }), "wd-0 is shared by weight-decay and layernorm-no-decay and runs once");
        Assert.That(plan.Runs, Has.Count.EqualTo(75));
        Assert.That(plan.Runs.Select(r => r.Folder).Distinct().Count(), Is.EqualTo(75));
        Assert.That(plan.Runs[0].Folder, Is.EqualTo(Path.Combine("/tmp/sweep-root", "base", "seed-0")));
        Assert.That(plan.Runs[0].LogPath, Is.EqualTo(Path.Combine("/tmp/sweep-root", "base", "seed-0.log")));
    }

    [Test]
    public void GroupsShareTheBaseSettingAndSeedsStartAtTheFirstSeed()
    {
        var plan = SweepPlan.Create(Sorting, Sorting.Sweep, "root", ["heads", "weight-decay", "heads"], 2, 10, []);
        Assert.That(plan.Settings.Select(s => s.Name), Is.EqualTo(new[] { "base", "heads-1", "heads-3", "heads-4", "wd-0", "wd-0.05" }));
        Assert.That(plan.Runs.Where(r => r.Setting.IsBase).Select(r => Path.GetFileName(r.Folder)), Is.EqualTo(new[] { "seed-10", "seed-11" }));
        Assert.That(plan.Root, Is.EqualTo(Path.GetFullPath("root")));
        Assert.Throws<UsageException>(() => SweepPlan.Create(Sorting, Sorting.Sweep, "root", ["bogus"], 2, 0, []));
    }

    [Test]
    public void SettingsNameTheirDifferencesAndGiveTheSortingOptions()
    {
        Assert.That(B.Name, Is.EqualTo("base"));
        Assert.That(B.Arguments, Is.Empty);
        var combined = B with { WeightDecay = 0, Heads = 3, LayerNorm = false };
        Assert.That(combined.Name, Is.EqualTo("wd-0_heads-3_no-ln"));
        Assert.That(combined.Arguments, Is.EqualTo(new[] { "--weight-decay", "0", "--heads", "3", "--no-layernorm" }));
        Assert.That((B with { GapMean = 1.5 }).Arguments, Is.EqualTo(new[] { "--gap-mean", "1.5" }));

        var config = JsonNode.Parse("""{"experiment":"sorting","seed":3,"weight_decay":0,"max_value":50,"list_length":10,"gap_mean":null,"heads":3,"layer_norm":false}""")!.AsObject();
        Assert.That(SortingSetting.FromConfig(config), Is.EqualTo(combined));
        Assert.That(SweepGroup.All.Where(g => g.Covers(B)).Select(g => g.Name), Is.EqualTo(SweepGroup.All.Where(g => g.Reference is null).Select(g => g.Name)),
            "the base belongs to every group that varies the base");
        Assert.That(SweepGroup.All.Count(g => g.Covers(combined)), Is.EqualTo(0));
        // A group with its own reference covers that reference and its one varied dimension only.
        var noDecay = SweepGroup.Named("layernorm-no-decay");
        Assert.That(noDecay.Covers(B with { WeightDecay = 0 }) && noDecay.Covers(B with { WeightDecay = 0, LayerNorm = false }), Is.True);
        Assert.That(noDecay.Covers(B) || noDecay.Covers(B with { LayerNorm = false }), Is.False);
    }

    [Test]
    public void MeanGapIsTheoreticalForUniformListsAndSampledForControlledGaps()
    {
        Assert.That(B.MeanGap, Is.EqualTo(52.0 / 11).Within(1e-12));
        Assert.That((B with { MaxValue = 100 }).MeanGap, Is.EqualTo(102.0 / 11).Within(1e-12));
        double small = (B with { GapMean = 1.5 }).MeanGap, large = (B with { GapMean = 5 }).MeanGap;
        Assert.That(small, Is.EqualTo(1.5).Within(0.1));
        Assert.That(large, Is.LessThan(5).And.GreaterThan(3.5), "lists that do not fit are redrawn, so the realised mean is below 5");
    }

    [Test]
    public void RunArgumentsReachEveryNewRunAndAreRecordedInThePlanFile()
    {
        using var temp = new TempFolder();
        var runArgs = SweepPlan.SplitArguments("--epochs 5  --checkpoints 'log:6+linear:20'");
        Assert.That(runArgs, Is.EqualTo(new[] { "--epochs", "5", "--checkpoints", "log:6+linear:20" }));
        var plan = SweepPlan.Create(Sorting, Sorting.Sweep, temp.Combine("sweep"), ["max-value"], 1, 7, runArgs);
        var job = plan.PendingJobs(threads: 3).Single(j => ((SortingSetting)j.Run.Setting).MaxValue == 30);
        Assert.That(job.State, Is.EqualTo(SweepRunState.New));
        Assert.That(job.Arguments, Is.EqualTo(new[]
        {
            "sorting", "--out", temp.Combine("sweep", "max-30", "seed-7"), "--seed", "7", "--max-value", "30", "--epochs", "5", "--checkpoints", "log:6+linear:20", "--threads", "3",
        }));

        plan.WritePlanFile(parallel: 2, threads: 3);
        var json = JsonNode.Parse(File.ReadAllText(temp.Combine("sweep", "sweep.json")))!;
        Assert.That(json["run_args"]!.AsArray().Select(a => a!.GetValue<string>()), Is.EqualTo(runArgs));
        Assert.That(json["runs"]!.AsArray(), Has.Count.EqualTo(3));
        Assert.That(json["runs"]![0]!["folder"]!.GetValue<string>(), Is.EqualTo("base/seed-7"));

        var other = SweepPlan.Create(Sorting, Sorting.Sweep, temp.Combine("sweep"), ["max-value"], 2, 7, ["--epochs", "6"]);
        var e = Assert.Throws<UsageException>(() => other.WritePlanFile(1, 1));
        Assert.That(e!.Message, Does.Contain("--epochs 5"));
        Assert.DoesNotThrow(() => SweepPlan.Create(Sorting, Sorting.Sweep, temp.Combine("sweep"), ["heads"], 3, 0, runArgs).WritePlanFile(1, 1), "more seeds, other groups: fine");
    }

    [Test]
    public void RunArgumentsThatTheSweepSetsOrSortingRejectsAreUsageErrors()
    {
        foreach (var bad in new[] { "--heads 3", "--seed 1", "--out x", "--threads=2", "--no-analysis", "--bogus 1", "--epochs zero" })
            Assert.Throws<UsageException>(() => SweepPlan.Create(Sorting, Sorting.Sweep, "root", null, 1, 0, SweepPlan.SplitArguments(bad)), bad);
        Assert.Throws<UsageException>(() => SweepPlan.SplitArguments("--config 'a b"));
        Assert.Throws<UsageException>(() => SweepPlan.Create(Sorting, Sorting.Sweep, "root", null, 0, 0, []));
    }

    [Test]
    public void ShellQuotingKeepsWordsIntact()
    {
        Assert.That(ProgramLauncher.ShellQuote("/a/b-c_d.e"), Is.EqualTo("/a/b-c_d.e"));
        Assert.That(ProgramLauncher.ShellQuote("a b"), Is.EqualTo("'a b'"));
        Assert.That(ProgramLauncher.ShellQuote("it's"), Is.EqualTo("'it'\\''s'"));
        Assert.That(ProgramLauncher.ShellQuote(""), Is.EqualTo("''"));
        var launcher = ProgramLauncher.Parse("dotnet '/opt/my forge/Forge.Experiments.dll'");
        Assert.That(launcher.FileName, Is.EqualTo("dotnet"));
        Assert.That(launcher.ShellCommand(["sorting", "--seed", "1"]), Is.EqualTo("dotnet '/opt/my forge/Forge.Experiments.dll' sorting --seed 1"));
    }
}
