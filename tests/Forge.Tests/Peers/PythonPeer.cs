using System.Diagnostics;

namespace Forge.Tests.Peers;

/// <summary>
/// Runs the PyTorch peer scripts of <c>bench/peers/</c> with the system Python (<c>/usr/bin/python3</c>,
/// the one with torch and numpy installed) and says whether PyTorch is available at all.
/// </summary>
static class PythonPeer
{
    public const string Python = "/usr/bin/python3";

    static readonly Lazy<string?> s_missingTorch = new(FindTorchProblem);

    /// <summary>Null when <c>python3 -c "import torch"</c> works, else why not (for Assert.Ignore).</summary>
    public static string? MissingTorch => s_missingTorch.Value;

    /// <summary>The repository root: the nearest folder above the test binaries holding Forge.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Starts <c>python3 bench/peers/SCRIPT args…</c>; <see cref="Finish"/> waits and checks the exit code.</summary>
    public static Process Start(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot, "bench", "peers", script));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {Python} {script}");
    }

    /// <summary>Waits for the process (at most a minute) and fails the test with its output unless it exited with 0.</summary>
    public static string Finish(Process process)
    {
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("the PyTorch peer did not finish within 60 s");
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
                Assert.Fail($"the PyTorch peer failed with exit code {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
            return stdout.Result;
        }
    }

    static string? FindTorchProblem()
    {
        if (!File.Exists(Python)) return $"{Python} does not exist";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch, numpy"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"'{Python} -c \"import torch, numpy\"' failed: {LastLine(error)}";
        }
        catch (System.ComponentModel.Win32Exception e) { return $"cannot run {Python}: {e.Message}"; }
    }

    static string LastLine(string text) => text.Trim().Split('\n')[^1];

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Forge.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Forge.sln above {TestContext.CurrentContext.TestDirectory}");
    }
}
