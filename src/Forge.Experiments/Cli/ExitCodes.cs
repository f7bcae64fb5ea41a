namespace Forge.Experiments.Cli;

/// <summary>The process exit codes of <c>Forge.Experiments</c> (see shared/conventions.md, "Command line").</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;
    /// <summary>An unexpected failure (a bug, an I/O error): message and stack trace on stderr.</summary>
    public const int Failure = 1;
    /// <summary>A bad option, value or config: one line on stderr naming the offending value.</summary>
    public const int Usage = 2;
}
