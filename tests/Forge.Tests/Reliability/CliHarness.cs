using Forge.Experiments.Cli;

namespace Forge.Tests.Reliability;

/// <summary>Runs Forge.Experiments in-process with every command registered, as a user's shell would.</summary>
static class CliHarness
{
    public sealed record Result(int Code, string Out, string Err)
    {
        /// <summary>Exit 2 with exactly one "error: …" line on stderr.</summary>
        public bool IsOneLineUsageError =>
            Code == 2 && Err.TrimEnd('\n').Split('\n') is [var line] && line.StartsWith("error: ", StringComparison.Ordinal);

        public override string ToString() => $"exit {Code}\nstdout: {Out}\nstderr: {Err}";
    }

    static readonly CommandRegistry Registry = CommandRegistry.Discover();

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int threads = Forge.Kernels.Threading.ForkJoin.Threads;
        try
        {
            int code = CliApp.Run(args, Registry, output, error);
            return new Result(code, output.ToString(), error.ToString());
        }
        finally { Forge.Kernels.Threading.ForkJoin.Threads = threads; }
    }

    /// <summary>The recipe of a sorting run that trains in a second: 4-number lists, a 16-wide model.</summary>
    public static readonly string[] TinySorting =
    [
        "--list-length", "4", "--max-value", "12", "--d-model", "16", "--d-head", "8", "--train-size", "64", "--val-size", "32",
        "--batch-size", "16", "--epochs", "2", "--eval-every", "4", "--checkpoints", "linear:2",
        "--llc-chains", "1", "--llc-draws", "3", "--llc-burn-in", "1", "--llc-batch", "8",
    ];

    /// <summary>Every file under <paramref name="root"/> with its bytes (lock files aside: they are the lock, not data).</summary>
    public static Dictionary<string, byte[]> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => f, File.ReadAllBytes);

    /// <summary>Asserts that every file of <paramref name="before"/> still exists with the same bytes.</summary>
    public static void AssertUnchanged(Dictionary<string, byte[]> before, string context)
    {
        foreach (var (path, bytes) in before)
        {
            Assert.That(File.Exists(path), $"{path} was deleted by: {context}");
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(bytes), $"{path} was changed by: {context}");
        }
    }
}
