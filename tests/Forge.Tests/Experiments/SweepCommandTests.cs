using System.Collections.Concurrent;
using Forge.Experiments.Cli;
using Forge.Experiments.Sorting;
using Forge.Experiments.Sorting.Sweep;
using Forge.Experiments.Sweeps;

namespace Forge.Tests.Experiments;

/// <summary>The sorting-sweep command: printed commands, the Slurm script, execution that skips and resumes, failures, and one real tiny sweep.</summary>
public class SweepCommandTests
{
    static readonly SortingSetting B = SortingSetting.Base;

    /// <summary>Records the jobs it is given; a successful job leaves a finished run folder behind.</summary>
    sealed class FakeRunner : ISweepRunner
    {
        public readonly ConcurrentQueue<SweepJob> Jobs = new();
        public Func<SweepJob, int> ExitCode = _ => 0;

        public int Run(SweepJob job)
        {
            Jobs.Enqueue(job);
            int code = ExitCode(job);
            if (code == 0) FakeSortingRun.Write(job.Run.Folder, (SortingSetting)job.Run.Setting, job.Run.Seed, SortingMode.VocabularySplitting);
            return code;
        }
    }

    static (int Code, string Out, string Err) Run(ISweepRunner? runner, params string[] args)
    {
        var sorting = new SortingExperiment();
        var registry = new CommandRegistry()
            .Register(new SweepCommand(sorting, sorting.Sweep, runner))
            .Register(new SweepReportCommand(sorting.Name, sorting.Sweep));
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, registry, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A weight-decay sweep of 2 seeds (6 runs): base/seed-0 finished, base/seed-1 interrupted, wd-0/seed-0 trained but not analysed.</summary>
    static string Prepare(TempFolder temp)
    {
        string root = temp.Combine("sweep");
        FakeSortingRun.Write(Path.Combine(root, "base", "seed-0"), B, 0, SortingMode.VocabularySplitting);
        FakeSortingRun.Write(Path.Combine(root, "base", "seed-1"), B, 1, null);
        FakeSortingRun.Write(Path.Combine(root, "wd-0", "seed-0"), B with { WeightDecay = 0 }, 0, SortingMode.Overlapping, trainedOnly: true);
        return root;
    }

    static string[] Sweep(string root, params string[] more) =>
        ["sorting-sweep", "--out", root, "--groups", "weight-decay", "--seeds", "2", "--threads", "3", .. more];

    [Test]
    public void PrintGivesOneIndependentCommandPerUnfinishedRun()
    {
        using var temp = new TempFolder();
        string root = Prepare(temp);
        var result = Run(null, Sweep(root, "--print", "--program", "forge"));
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        var lines = result.Out.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(5));
        string R(string setting, int seed) => Path.Combine(root, setting, $"seed-{seed}");
        Assert.That(lines, Does.Contain($"mkdir -p {Path.Combine(root, "base")} && forge sorting --resume --out {R("base", 1)} --threads 3 >> {R("base", 1)}.log 2>&1"));
        Assert.That(lines, Does.Contain($"mkdir -p {Path.Combine(root, "wd-0")} && forge analyze --run {R("wd-0", 0)} --threads 3 >> {R("wd-0", 0)}.log 2>&1"));
        Assert.That(lines, Does.Contain($"mkdir -p {Path.Combine(root, "wd-0")} && forge sorting --out {R("wd-0", 1)} --seed 1 --weight-decay 0 --threads 3 >> {R("wd-0", 1)}.log 2>&1"));
        Assert.That(lines.Count(l => l.Contains("--weight-decay 0.05")), Is.EqualTo(2));
        Assert.That(result.Out, Does.Not.Contain(R("base", 0) + " "), "finished runs are not printed");
        Assert.That(File.Exists(Path.Combine(root, "sweep.json")));
    }

    [Test]
    public void SlurmScriptHasOneArrayTaskPerUnfinishedRun()
    {
        using var temp = new TempFolder();
        string root = Prepare(temp);
        var result = Run(null, Sweep(root, "--slurm", "--program", "forge", "--slurm-time", "02:00:00"));
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        string script = result.Out;
        Assert.That(File.ReadAllText(Path.Combine(root, "sweep.sbatch")), Is.EqualTo(script));
        Assert.That(script, Does.StartWith("#!/bin/bash\n"));
        Assert.That(script, Does.Contain("#SBATCH --array=0-4\n").And.Contain("#SBATCH --cpus-per-task=3\n").And.Contain("#SBATCH --time=02:00:00\n"));
        var printed = Run(null, Sweep(root, "--print", "--program", "forge")).Out.TrimEnd().Split('\n');
        for (int i = 0; i < printed.Length; i++)
            Assert.That(script, Does.Contain($"  {i}) # ").And.Contain($"    {printed[i]} ;;\n"), $"task {i}");
        Assert.That(script, Does.Not.Contain("  5) "));
        Assert.That(Run(null, Sweep(root, "--slurm", "--parallel", "2")).Out, Does.Contain("#SBATCH --array=0-4%2\n"));
        Assert.That(Run(null, Sweep(root, "--slurm", "--print")).Code, Is.EqualTo(2));
    }

    [Test]
    public void ExecutionSkipsFinishedRunsResumesInterruptedOnesAndWritesTheReport()
    {
        using var temp = new TempFolder();
        string root = Prepare(temp);
        var runner = new FakeRunner();
        var result = Run(runner, Sweep(root, "--parallel", "2"));
        Assert.That(result.Code, Is.EqualTo(0), result.Err + result.Out);
        var jobs = runner.Jobs.ToDictionary(j => j.Run.Name);
        Assert.That(jobs.Keys, Is.EquivalentTo(new[] { "base/seed-1", "wd-0/seed-0", "wd-0/seed-1", "wd-0.05/seed-0", "wd-0.05/seed-1" }));
        Assert.That(jobs["base/seed-1"].Arguments, Is.EqualTo(new[] { "sorting", "--resume", "--out", Path.Combine(root, "base", "seed-1"), "--threads", "3" }));
        Assert.That(jobs["wd-0/seed-0"].Arguments, Is.EqualTo(new[] { "analyze", "--run", Path.Combine(root, "wd-0", "seed-0"), "--threads", "3" }));
        Assert.That(jobs["wd-0/seed-1"].State, Is.EqualTo(SweepRunState.New));
        Assert.That(result.Out, Does.Contain("1 finished (skipped), 3 to train, 1 to resume, 1 to analyse"));
        Assert.That(result.Out, Does.Contain("start  base/seed-1 (resume)").And.Contain("done   wd-0/seed-0 in"));
        Assert.That(result.Out, Does.Contain("VocabularySplitting, val acc 0.9990, LLC 50.0 ± 1.5"));
        Assert.That(File.Exists(Path.Combine(root, "sweep-report.md")));

        var again = Run(runner, Sweep(root));
        Assert.That(again.Code, Is.EqualTo(0));
        Assert.That(again.Out, Does.Contain("6 finished (skipped), 0 to train"));
        Assert.That(runner.Jobs, Has.Count.EqualTo(5), "nothing ran the second time");
    }

    [Test]
    public void AFailedRunIsReportedTheOthersContinueAndTheNextSweepRetriesIt()
    {
        using var temp = new TempFolder();
        string root = Prepare(temp);
        var runner = new FakeRunner { ExitCode = job => job.Run.Name == "wd-0.05/seed-0" ? 3 : 0 };
        var result = Run(runner, Sweep(root));
        Assert.That(result.Code, Is.EqualTo(1));
        Assert.That(result.Out, Does.Contain("FAILED wd-0.05/seed-0 after").And.Contain("exit code 3; log " + Path.Combine(root, "wd-0.05", "seed-0.log")));
        Assert.That(result.Out, Does.Contain("4 done, 1 failed"));
        Assert.That(runner.Jobs, Has.Count.EqualTo(5));

        runner.ExitCode = _ => 0;
        var retry = Run(runner, Sweep(root));
        Assert.That(retry.Code, Is.EqualTo(0), retry.Out);
        Assert.That(runner.Jobs.Skip(5).Select(j => j.Run.Name), Is.EqualTo(new[] { "wd-0.05/seed-0" }));
    }

    [Test]
    public void ChangingTheRunArgumentsOfAnExistingSweepIsAUsageError()
    {
        using var temp = new TempFolder();
        string root = temp.Combine("sweep");
        Assert.That(Run(null, Sweep(root, "--print", "--run-args", "--epochs 5")).Code, Is.EqualTo(0));
        var changed = Run(null, Sweep(root, "--print", "--run-args", "--epochs 6"));
        Assert.That(changed.Code, Is.EqualTo(2));
        Assert.That(changed.Err, Does.Contain("--epochs 5"));
        Assert.That(Run(null, Sweep(root, "--print", "--run-args", "--heads 3")).Code, Is.EqualTo(2));
    }

    [Test]
    public void ARealTinySweepRunsChildProcessesAndSkipsThemWhenStartedAgain()
    {
        using var temp = new TempFolder();
        string root = temp.Combine("sweep");
        const string tiny = "--train-size 640 --val-size 256 --batch-size 64 --epochs 2 --eval-every 20 --llc-chains 1 --llc-draws 5 --llc-burn-in 2 --llc-batch 64";
        var result = Run(null, "sorting-sweep", "--out", root, "--groups", "layernorm", "--seeds", "2", "--parallel", "2", "--run-args", tiny);
        Assert.That(result.Code, Is.EqualTo(0), result.Out + result.Err + string.Join("\n", Directory.GetFiles(root, "*.log", SearchOption.AllDirectories).Select(File.ReadAllText)));
        foreach (var run in new[] { "base/seed-0", "base/seed-1", "no-ln/seed-0", "no-ln/seed-1" })
        {
            Assert.That(File.Exists(Path.Combine(root, run, "analysis.json")), run);
            Assert.That(File.ReadAllText(Path.Combine(root, run + ".log")), Does.Contain("# exit code 0"));
        }
        Assert.That(File.ReadAllText(Path.Combine(root, "sweep-report.md")), Does.Contain("## LayerNorm").And.Contain("| claim | verdict | evidence |"));
        var again = Run(null, "sorting-sweep", "--out", root, "--groups", "layernorm", "--seeds", "2", "--run-args", tiny);
        Assert.That(again.Code, Is.EqualTo(0));
        Assert.That(again.Out, Does.Contain("4 finished (skipped), 0 to train, 0 to resume, 0 to analyse"));
    }
}
