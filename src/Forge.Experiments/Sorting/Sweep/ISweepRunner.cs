using System.Diagnostics;
using System.Globalization;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>Runs one job of a sweep to its end (tests inject a fake that writes run folders by hand).</summary>
public interface ISweepRunner
{
    /// <summary>Runs <paramref name="job"/>, writing its output to <c>job.Run.LogPath</c>; returns its exit code.</summary>
    /// <remarks>Called from several threads at once when the sweep runs jobs in parallel.</remarks>
    int Run(SweepJob job);
}

/// <summary>
/// Runs each job as a child process of this same program (<see cref="ProgramLauncher.Current"/>),
/// appending its stdout and stderr to the run's log with a header line per attempt.
/// </summary>
public sealed class ProcessSweepRunner(ProgramLauncher launcher) : ISweepRunner
{
    public ProgramLauncher Launcher { get; } = launcher;

    public int Run(SweepJob job)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(job.Run.LogPath)!);
        using var log = new StreamWriter(job.Run.LogPath, append: true) { AutoFlush = true };
        var gate = new object();
        void Write(string? line)
        {
            if (line is null) return;
            lock (gate) log.WriteLine(line);
        }
        Write($"# {DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {job.Action}: {Launcher.ShellCommand(job.Arguments)}");
        using var process = new Process { StartInfo = Launcher.StartInfo(job.Arguments) };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        try { process.Start(); }
        catch (System.ComponentModel.Win32Exception e)
        {
            Write($"# could not start '{Launcher.FileName}': {e.Message}");
            return 127;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();   // also waits for the redirected streams to be drained
        Write($"# exit code {process.ExitCode}");
        return process.ExitCode;
    }
}
