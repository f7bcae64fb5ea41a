using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Forge.Experiments.Sweeps;

/// <summary>What happened to the jobs of one sweep invocation.</summary>
/// <param name="Failed">The jobs that failed, with their exit codes.</param>
public sealed record SweepOutcome(int Done, IReadOnlyList<(SweepJob Job, int ExitCode)> Failed, TimeSpan Elapsed);

/// <summary>
/// Runs the jobs of a sweep, <c>parallel</c> at a time, in plan order. Writes one line when a job
/// starts and one when it ends (elapsed time; mode and accuracy from its analysis.json, or the exit
/// code and log of a failure). A failed job does not stop the others.
/// </summary>
public static class SweepExecutor
{
    public static SweepOutcome Execute(IReadOnlyList<SweepJob> jobs, int parallel, ISweepRunner runner, TextWriter output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        var clock = Stopwatch.StartNew();
        var failed = new List<(SweepJob, int)>();
        int done = 0, started = 0;
        var gate = new object();
        string width = jobs.Count.ToString(CultureInfo.InvariantCulture).Length.ToString(CultureInfo.InvariantCulture);
        // No buffering: jobs start one by one in plan order (the default partitioner hands out chunks).
        var order = Partitioner.Create(Enumerable.Range(0, jobs.Count), EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = parallel }, index =>
        {
            var job = jobs[index];
            string tag;
            lock (gate)
            {
                started++;
                tag = $"[{started.ToString("D" + width, CultureInfo.InvariantCulture)}/{jobs.Count}]";
                output.WriteLine($"{tag} start  {job.Run.Name} ({job.Action})");
                output.Flush();
            }
            var runClock = Stopwatch.StartNew();
            int code = RunSafely(runner, job);
            string? result = code == 0 ? Finished(job) : null;
            lock (gate)
            {
                string elapsed = Duration(runClock.Elapsed);
                if (code == 0 && result is not null)
                {
                    done++;
                    output.WriteLine($"{tag} done   {job.Run.Name} in {elapsed}: {result}");
                }
                else
                {
                    failed.Add((job, code));
                    string why = code == 0 ? "exit code 0 but no analysis.json" : $"exit code {code}";
                    output.WriteLine($"{tag} FAILED {job.Run.Name} after {elapsed}: {why}; log {job.Run.LogPath}");
                }
                output.Flush();
            }
        });
        return new SweepOutcome(done, failed, clock.Elapsed);
    }

    /// <summary>A runner that throws (it could not start the process, the disk is full) fails its job, not the sweep.</summary>
    static int RunSafely(ISweepRunner runner, SweepJob job)
    {
        try { return runner.Run(job); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            try { File.AppendAllText(job.Run.LogPath, $"# sweep: could not run the job: {e.Message}\n"); }
            catch (IOException) { }
            return -1;
        }
    }

    /// <summary>The headline of the run's analysis.json (e.g. "VocabularySplitting, val acc 0.9990, LLC 52.3 ± 1.2"), or null when it has none.</summary>
    static string? Finished(SweepJob job)
    {
        try
        {
            if (!File.Exists(job.Run.AnalysisPath)) return null;
            var analysis = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(job.Run.AnalysisPath));
            return analysis?[Runs.RunFolder.HeadlineKey]?.GetValue<string>() ?? "analysed";
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or IOException) { return null; }
    }

    /// <summary>"42s", "12m05s", "3h02m".</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:D2}m"
        : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:D2}s"
        : $"{span.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)}s";
}
