using System.Globalization;
using System.Text;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// The sweep as shell commands for running elsewhere: one independent line per run still to do
/// (<c>--print</c>, for a terminal, <c>xargs -P</c> or GNU parallel), or a Slurm job-array script
/// with one array task per run (<c>--slurm</c>). Each command creates the run's parent folder and
/// appends its output to the run's log, as the sweep itself does.
/// </summary>
public static class SweepScripts
{
    /// <summary>The file <c>--slurm</c> writes into the sweep root.</summary>
    public const string SlurmFileName = "sweep.sbatch";

    /// <summary>Whether <paramref name="time"/> is a time limit Slurm accepts (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS).</summary>
    public static bool IsSlurmTime(string time) =>
        System.Text.RegularExpressions.Regex.IsMatch(time, @"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}(:\d{1,2}){0,2})$");

    /// <summary>One shell line for a job: <c>mkdir -p &lt;parent&gt; &amp;&amp; &lt;program&gt; &lt;args&gt; &gt;&gt; &lt;log&gt; 2&gt;&amp;1</c>.</summary>
    public static string CommandLine(ProgramLauncher launcher, SweepJob job)
    {
        string parent = Path.GetDirectoryName(job.Run.LogPath)!;
        return $"mkdir -p {ProgramLauncher.ShellQuote(parent)} && {launcher.ShellCommand(job.Arguments)} >> {ProgramLauncher.ShellQuote(job.Run.LogPath)} 2>&1";
    }

    /// <summary>The lines <c>--print</c> writes: one command per job, nothing else.</summary>
    public static IEnumerable<string> PrintLines(ProgramLauncher launcher, IReadOnlyList<SweepJob> jobs) =>
        jobs.Select(job => CommandLine(launcher, job));

    /// <summary>Settings of the Slurm script.</summary>
    /// <param name="CpusPerTask">--cpus-per-task (each run is given as many kernel threads).</param>
    /// <param name="MaxRunning">At most this many array tasks at once (<c>--array=0-N%M</c>); null = no limit.</param>
    /// <param name="Time">--time limit per task (e.g. 02:00:00); null = the partition's default.</param>
    /// <param name="Experiment">The experiment's command name (the job is named <c>&lt;experiment&gt;-sweep</c>).</param>
    public sealed record SlurmOptions(string Experiment, int CpusPerTask, int? MaxRunning = null, string? Time = null);

    /// <summary>
    /// A Slurm job-array script: task i runs job i. Only the runs still to do are in it, so the
    /// array size is the number of unfinished runs; a task that fails leaves its run to the next
    /// <c>&lt;experiment&gt;-sweep</c> or <c>--slurm</c>, which resumes it.
    /// </summary>
    public static string Slurm(ProgramLauncher launcher, IReadOnlyList<SweepJob> jobs, string root, SlurmOptions options)
    {
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append(CultureInfo.InvariantCulture, $"# Forge {options.Experiment} sweep in {root}: {jobs.Count} run(s) still to do, one array task each.\n");
        s.Append(CultureInfo.InvariantCulture, $"# Submit: sbatch {ProgramLauncher.ShellQuote(Path.Combine(root, SlurmFileName))}   (add --partition/--account as your cluster needs)\n");
        s.Append(CultureInfo.InvariantCulture, $"# Then:   {launcher.ShellCommand([options.Experiment + "-sweep-report", "--runs", root])}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={options.Experiment}-sweep\n");
        string limit = options.MaxRunning is int m ? "%" + m.ToString(CultureInfo.InvariantCulture) : "";
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{Math.Max(0, jobs.Count - 1)}{limit}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={options.CpusPerTask}\n");
        s.Append("#SBATCH --ntasks=1\n");
        if (options.Time is { } time) s.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={time}\n");
        s.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Path.Combine(root, "slurm-%A_%a.out")}\n");
        s.Append("set -eu\n");
        s.Append("case \"$SLURM_ARRAY_TASK_ID\" in\n");
        for (int i = 0; i < jobs.Count; i++)
        {
            s.Append(CultureInfo.InvariantCulture, $"  {i}) # {jobs[i].Run.Name} ({jobs[i].Action})\n");
            s.Append(CultureInfo.InvariantCulture, $"    {CommandLine(launcher, jobs[i])} ;;\n");
        }
        s.Append("  *) echo \"no run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n");
        s.Append("esac\n");
        return s.ToString();
    }
}
