using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// Runs each job as a child process of this same program (<see cref="ProgramLauncher.Current"/>),
/// appending its stdout and stderr to the run's log with a header line per attempt. When the sweep
/// is told to stop (SIGTERM, SIGHUP, SIGINT), it kills its children first, so a sweep started
/// again never finds an orphan still writing into a run folder it resumes.
/// </summary>
public sealed class ProcessSweepRunner : ISweepRunner, IDisposable
{
    readonly ConcurrentDictionary<int, Process> _running = new();
    readonly List<PosixSignalRegistration> _signals = [];

    public ProcessSweepRunner(ProgramLauncher launcher)
    {
        Launcher = launcher;
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGINT })
        {
            try { _signals.Add(PosixSignalRegistration.Create(signal, _ => KillChildren())); }
            catch (PlatformNotSupportedException) { }   // SIGHUP has no equivalent on Windows
        }
    }

    public ProgramLauncher Launcher { get; }

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
        _running[process.Id] = process;
        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.WaitForExit();   // also waits for the redirected streams to be drained
        }
        finally { _running.TryRemove(process.Id, out _); }
        Write($"# exit code {process.ExitCode}");
        return process.ExitCode;
    }

    void KillChildren()
    {
        foreach (var process in _running.Values)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }   // it has just exited
        }
    }

    public void Dispose()
    {
        foreach (var signal in _signals) signal.Dispose();
        _signals.Clear();
    }
}
