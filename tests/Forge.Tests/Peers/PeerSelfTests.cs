using System.Diagnostics;

namespace Forge.Tests.Peers;

/// <summary>
/// The peers' own Python self-checks (bench/peers/test_*.py): test_forge_torch.py checks the hand-written PyTorch
/// pieces the gradient peer is built from; test_torch_steps.py checks the training-step race's peer (its shapes,
/// the allocator re-exec, the JSON it reports). Run with the system Python's unittest; skipped, never passed, when
/// PyTorch is not installed for /usr/bin/python3.
/// </summary>
public class PeerSelfTests
{
    [TestCase("test_forge_torch")]
    [TestCase("test_torch_steps")]
    public void PythonSelfChecksPass(string module)
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        var info = new ProcessStartInfo(PythonPeer.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(PythonPeer.RepositoryRoot, "bench", "peers"),
        };
        foreach (var argument in new[] { "-m", "unittest", module }) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {PythonPeer.Python}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"python3 -m unittest {module} did not finish within 120 s");
        }
        process.WaitForExit();
        // unittest reports on stderr: "Ran N tests … OK" or the failures.
        Assert.That(process.ExitCode, Is.EqualTo(0), $"python3 -m unittest {module} failed:\n{stdout.Result}\n{stderr.Result}");
        Assert.That(stderr.Result, Does.Contain("OK").And.Contain("Ran "), $"unexpected unittest output:\n{stderr.Result}");
    }
}
