using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Forge.Experiments.Cli;

/// <summary>
/// Parses the command line, runs the chosen command and maps every failure to the conventions' exit
/// codes: parse errors and <see cref="UsageException"/> give ONE line on stderr and exit 2; any other
/// exception gives its message (and stack trace) and exit 1.
/// </summary>
public static partial class CliApp
{
    /// <summary>The program's name as users type it.</summary>
    public const string ProgramName = "Forge.Experiments";

    /// <summary>Runs <paramref name="args"/> against the commands in <paramref name="registry"/>.</summary>
    /// <param name="output">Where commands and <c>--help</c> write (default: <see cref="Console.Out"/>).</param>
    /// <param name="error">Where errors go (default: <see cref="Console.Error"/>).</param>
    /// <returns>The process exit code (<see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args, CommandRegistry registry, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        try
        {
            var root = registry.BuildRoot();
            var parseResult = root.Parse(args);
            // System.CommandLine's own error action prints every error plus the whole help text; the
            // conventions ask for one line naming the offending value, so errors are reported here.
            if (parseResult.Action is ParseErrorAction || (parseResult.Action is null && parseResult.Errors.Count > 0))
                return ReportUsageError(error, FirstParseError(parseResult));
            if (parseResult.Action is null && parseResult.CommandResult.Command is RootCommand)
                return ReportUsageError(error, $"no command given; run '{ProgramName} --help' for the list of commands");
            var invocation = new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
            };
            return parseResult.Invoke(invocation);
        }
        catch (UsageException e)
        {
            return ReportUsageError(error, e.Message);
        }
        catch (Exception e)
        {
            // A bug, not a usage error: one line for the user, the whole trace in a log file.
            string log = WriteTrace(e);
            error.WriteLine($"error: internal error ({e.GetType().Name}: {OneLine(e.Message)}); this is a bug in Forge — details in {log}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The file an internal error's trace goes to: the run folder's <c>error.log</c> when a run is open, else one in the temp folder.</summary>
    public const string ErrorLogName = "error.log";

    static string WriteTrace(Exception e)
    {
        string text = $"{DateTime.Now:O} {ProgramName} {EngineInfo.Version}\n{e}\n\n";
        foreach (var folder in new[] { Runs.RunFolder.LastOpened, Path.GetTempPath() })
        {
            if (folder is null) continue;
            string path = Path.Combine(folder, folder == Path.GetTempPath() ? $"forge-error-{Environment.ProcessId}.log" : ErrorLogName);
            try
            {
                File.AppendAllText(path, text);
                return path;
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException) { }
        }
        return "(no log could be written)";
    }

    static string FirstParseError(ParseResult parseResult)
    {
        // The most specific error first: a bad value or unknown token names what the user typed,
        // while "Required command was not provided" (a command-level error) is only the consequence.
        var errors = parseResult.Errors.OrderBy(e => e.SymbolResult is CommandResult ? 1 : 0).ToList();
        if (errors.Count == 0) return "invalid command line";
        if (parseResult.UnmatchedTokens.Count > 0)
            return $"unknown command, option or argument '{parseResult.UnmatchedTokens[0]}' " +
                   $"(run '{ProgramName} {CommandPath(parseResult)}--help' for the list)";
        if (errors[0].SymbolResult is CommandResult { Command: RootCommand } && parseResult.Tokens.Count == 0)
            return $"no command given; run '{ProgramName} --help' for the list of commands";
        string first = RepeatedOption(errors[0]) ?? errors[0].Message;
        return errors.Count == 1 ? first : $"{first} (and {errors.Count - 1} more)";
    }

    /// <summary>"--steps is given 2 times (5, 6); give it once" for an option that takes one value and got several.</summary>
    static string? RepeatedOption(ParseError error)
    {
        if (error.SymbolResult is not OptionResult { Option: var option } result || result.Tokens.Count < 2) return null;
        if (option.Arity.MaximumNumberOfValues != 1) return null;
        return $"{option.Name} is given {result.Tokens.Count} times ({string.Join(", ", result.Tokens.Select(t => $"'{t.Value}'"))}); give it once";
    }

    /// <summary>"sorting " for a subcommand, "explain attention " for a nested one, "" for the root: where to ask for help.</summary>
    static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (SymbolResult? result = parseResult.CommandResult; result is CommandResult { Command: not RootCommand } command; result = command.Parent)
            names.Insert(0, command.Command.Name);
        return string.Concat(names.Select(name => name + " "));
    }

    static int ReportUsageError(TextWriter error, string message)
    {
        error.WriteLine("error: " + OneLine(message));
        return ExitCodes.Usage;
    }

    /// <summary>Collapses line breaks and runs of whitespace so a message is guaranteed one line.</summary>
    public static string OneLine(string message) => Whitespace().Replace(message, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
