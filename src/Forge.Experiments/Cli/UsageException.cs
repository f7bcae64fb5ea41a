namespace Forge.Experiments.Cli;

/// <summary>
/// A mistake by the person running the program (a bad option value, a missing file, a run folder that
/// would be overwritten), as opposed to a bug. The program prints its message as one line on stderr
/// and exits with code 2. The message must name the offending value.
/// </summary>
public sealed class UsageException : Exception
{
    public UsageException(string message) : base(message) { }
    public UsageException(string message, Exception inner) : base(message, inner) { }
}
