using Spectre.Console;

namespace Forge.Experiments.Runs;

/// <summary>
/// Picks the progress display: a live bar when the output is an interactive terminal, plain lines
/// otherwise (redirected to a file or pipe, under CI, or TERM=dumb). Never both.
/// </summary>
public static class ProgressReporter
{
    /// <summary>
    /// The display for <paramref name="output"/>: live only when it is the real console and
    /// <see cref="IsInteractive"/> says so; any other writer (a test's, a log file) gets plain lines.
    /// </summary>
    public static ITrainingProgress For(TextWriter output, TimeSpan? plainInterval = null) =>
        ReferenceEquals(output, Console.Out) && IsInteractive()
            ? new LiveProgress(AnsiConsole.Console)
            : new PlainProgress(output, plainInterval);

    /// <summary>Whether stdout is a terminal a person watches (not redirected, not CI, not TERM=dumb).</summary>
    public static bool IsInteractive() =>
        IsInteractive(Console.IsOutputRedirected, Environment.GetEnvironmentVariable("CI"), Environment.GetEnvironmentVariable("TERM"));

    /// <summary>The decision itself, from its inputs (for tests).</summary>
    public static bool IsInteractive(bool outputRedirected, string? ciVariable, string? term)
    {
        if (outputRedirected) return false;
        // CI systems set CI=true (GitHub, GitLab, ...); CI=false or CI=0 means "not CI".
        if (!string.IsNullOrEmpty(ciVariable) && ciVariable is not ("false" or "0")) return false;
        return term != "dumb";
    }
}
