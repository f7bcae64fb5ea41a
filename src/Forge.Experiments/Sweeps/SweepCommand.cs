using System.CommandLine;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// <c>&lt;experiment&gt;-sweep</c>: an experiment over seeds × the settings of its sweep design. By default it runs every unfinished run as a child process (<c>--parallel</c> at a
/// time), skipping finished ones and resuming interrupted ones, then writes the sweep report;
/// <c>--print</c> and <c>--slurm</c> give the same runs as shell commands or a Slurm job array.
/// </summary>
/// <param name="runner">Where runs go; null: child processes of this program (tests pass a fake).</param>
public sealed class SweepCommand(Framework.IExperiment experiment, ISweepDesign design, ISweepRunner? runner = null) : ICliCommand
{
    string Name => experiment.Name;

    sealed record Options(Option<string> Out, Option<int> Seeds, Option<ulong> FirstSeed, Option<string?> Groups, Option<string?> RunArgs,
        Option<int> Parallel, Option<int?> Threads, Option<bool> Print, Option<bool> Slurm, Option<string?> SlurmTime, Option<string?> Program);

    public Command Create()
    {
        var o = new Options(
            new Option<string>("--out") { Description = "The sweep folder: runs go to <out>/<setting>/seed-<s>.", HelpName = "DIR", DefaultValueFactory = _ => Path.Combine("runs", Name + "-sweep") },
            Named(OptionFactory.Int("--seeds", "Seeds per setting.", 5, 1), "N"),
            Named(OptionFactory.ULong("--first-seed", "The first seed (seeds are first … first+N−1).", 0), "S"),
            new Option<string?>("--groups") { Description = $"Comma-separated groups (default: all): {string.Join(", ", design.Groups.Select(g => g.Name))}.", HelpName = "A,B" },
            new Option<string?>("--run-args") { Description = $"Extra '{Name}' options for every run, e.g. \"--steps 500\" for a quick sweep (recorded in sweep.json; a sweep folder keeps its run arguments).", HelpName = "\"ARGS\"" },
            Named(OptionFactory.Int("--parallel", "Runs at once (execution), or the most array tasks running at once (--slurm).", 1, 1, 1024), "P"),
            new Option<int?>("--threads") { Description = "Kernel threads per run (default: max(1, cores/parallel); 4 with --slurm, which also asks for that many CPUs per task).", HelpName = "N" },
            new Option<bool>("--print") { Description = "Print one independent shell command per unfinished run instead of running them (e.g. | xargs -d '\\n' -P 4 -n 1 sh -c)." },
            new Option<bool>("--slurm") { Description = "Write <out>/sweep.sbatch, a Slurm job-array script with one task per unfinished run, and print it." },
            new Option<string?>("--slurm-time") { Description = "With --slurm: the time limit per task (#SBATCH --time).", HelpName = "HH:MM:SS" },
            new Option<string?>("--program") { Description = "With --print/--slurm: the command that starts Forge.Experiments where the runs will run (default: this program).", HelpName = "\"CMD\"" });
        var command = new Command(Name + "-sweep",
            $"Run the {Name} experiment over seeds × settings ({design.GridDescription}); " +
            "resumable; --print or --slurm for running elsewhere; writes the sweep report.")
        {
            o.Out, o.Seeds, o.FirstSeed, o.Groups, o.RunArgs, o.Parallel, o.Threads, o.Print, o.Slurm, o.SlurmTime, o.Program,
        };
        command.SetAction(parse => Run(parse, o));
        return command;
    }

    static Option<T> Named<T>(Option<T> option, string helpName)
    {
        option.HelpName = helpName;
        return option;
    }

    int Run(ParseResult parse, Options o)
    {
        var output = parse.InvocationConfiguration.Output;
        bool print = parse.GetValue(o.Print), slurm = parse.GetValue(o.Slurm);
        if (print && slurm) throw new UsageException("--print and --slurm exclude each other");
        if (parse.GetValue(o.SlurmTime) is { } time && !SweepScripts.IsSlurmTime(time))
            throw new UsageException($"invalid value '{time}' for --slurm-time: expected Slurm's MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
        var groups = parse.GetValue(o.Groups)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var plan = SweepPlan.Create(experiment, design, parse.GetValue(o.Out)!, groups, parse.GetValue(o.Seeds), parse.GetValue(o.FirstSeed), SweepPlan.SplitArguments(parse.GetValue(o.RunArgs)));
        int parallel = parse.GetValue(o.Parallel);
        int threads = parse.GetValue(o.Threads) ?? (slurm ? 4 : Math.Max(1, Environment.ProcessorCount / parallel));
        if (threads < 1) throw new UsageException($"invalid value '{threads}' for --threads: expected an integer ≥ 1");
        var launcher = parse.GetValue(o.Program) is { } program ? ProgramLauncher.Parse(program) : ProgramLauncher.Current();
        plan.WritePlanFile(parallel, threads);
        var jobs = plan.PendingJobs(threads);

        if (print)
        {
            foreach (var line in SweepScripts.PrintLines(launcher, jobs)) output.WriteLine(line);
            return ExitCodes.Success;
        }
        if (slurm)
        {
            if (jobs.Count == 0)
            {
                output.WriteLine($"# nothing to do: all {plan.Runs.Count} runs in {plan.Root} are finished; no script written");
                return ExitCodes.Success;
            }
            int? maxRunning = parse.GetResult(o.Parallel) is { Implicit: false } ? parallel : null;
            string script = SweepScripts.Slurm(launcher, jobs, plan.Root, new SweepScripts.SlurmOptions(Name, threads, maxRunning, parse.GetValue(o.SlurmTime)));
            Forge.Models.Checkpoints.AtomicFile.WriteAllText(Path.Combine(plan.Root, SweepScripts.SlurmFileName), script);
            output.Write(script);
            return ExitCodes.Success;
        }
        if (runner is not null) return Execute(plan, jobs, parallel, threads, runner, output);
        using var processes = new ProcessSweepRunner(launcher);
        return Execute(plan, jobs, parallel, threads, processes, output);
    }

    int Execute(SweepPlan plan, IReadOnlyList<SweepJob> jobs, int parallel, int threads, ISweepRunner runner, TextWriter output)
    {
        int Count(SweepRunState s) => jobs.Count(j => j.State == s);
        output.WriteLine($"{Name} sweep → {plan.Root}: {plan.Runs.Count} runs ({plan.Settings.Count} settings × {plan.Seeds} seeds); " +
                         $"{plan.Runs.Count - jobs.Count} finished (skipped), {Count(SweepRunState.New)} to train, {Count(SweepRunState.Interrupted)} to resume, " +
                         $"{Count(SweepRunState.Trained)} to analyse; {parallel} at once, {threads} thread(s) each");
        if (plan.RunArgs.Count > 0) output.WriteLine($"run arguments: {string.Join(' ', plan.RunArgs)}");
        var outcome = SweepExecutor.Execute(jobs, parallel, runner, output);
        string report = design.WriteReport([plan.Root], plan.Root, output);
        output.WriteLine($"sweep finished in {SweepExecutor.Duration(outcome.Elapsed)}: {outcome.Done} done, {outcome.Failed.Count} failed, " +
                         $"{plan.Runs.Count - jobs.Count} skipped; report: {report}");
        foreach (var (job, code) in outcome.Failed)
            output.WriteLine($"failed: {job.Run.Name} ({job.Action}, exit code {code}), log {job.Run.LogPath}; run the sweep again to retry it");
        return outcome.Failed.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
