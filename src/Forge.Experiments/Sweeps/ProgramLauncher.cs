using System.Diagnostics;
using System.Text;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// How to start <c>Forge.Experiments</c> again as a child process (or in a printed command): the
/// program file and the arguments that come before the command's own (for <c>dotnet</c>: the
/// assembly path).
/// </summary>
/// <param name="FileName">The executable: the apphost <c>Forge.Experiments</c>, or <c>dotnet</c>.</param>
/// <param name="PrefixArguments">Arguments before the subcommand (e.g. the path of Forge.Experiments.dll).</param>
public sealed record ProgramLauncher(string FileName, IReadOnlyList<string> PrefixArguments)
{
    const string AppName = "Forge.Experiments";

    /// <summary>
    /// This program: the running apphost when the process is <c>Forge.Experiments</c> itself (the
    /// build output, or <c>dotnet run</c>); otherwise the apphost next to the Forge.Experiments assembly
    /// when there is one (a test host); otherwise <c>dotnet &lt;Forge.Experiments.dll&gt;</c>.
    /// </summary>
    public static ProgramLauncher Current()
    {
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == AppName) return new(process, []);
        string assembly = typeof(ProgramLauncher).Assembly.Location;
        string folder = Path.GetDirectoryName(assembly) ?? ".";
        string apphost = Path.Combine(folder, OperatingSystem.IsWindows() ? AppName + ".exe" : AppName);
        if (File.Exists(apphost)) return new(apphost, []);
        string dotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return new(dotnet, [assembly]);
    }

    /// <summary>A launcher from a shell command prefix such as <c>"dotnet /opt/forge/Forge.Experiments.dll"</c> (<c>--program</c>).</summary>
    public static ProgramLauncher Parse(string commandPrefix)
    {
        var parts = SweepPlan.SplitArguments(commandPrefix);
        if (parts.Count == 0) throw new Cli.UsageException("--program must name the program (e.g. /opt/forge/Forge.Experiments)");
        return new(parts[0], parts.Skip(1).ToList());
    }

    /// <summary>The full command as one POSIX shell line, every word quoted where needed.</summary>
    public string ShellCommand(IReadOnlyList<string> arguments) =>
        string.Join(' ', new[] { FileName }.Concat(PrefixArguments).Concat(arguments).Select(ShellQuote));

    /// <summary>Process start info for the command, stdout and stderr redirected (to the run's log).</summary>
    public ProcessStartInfo StartInfo(IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in PrefixArguments.Concat(arguments)) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>Quotes a word for a POSIX shell: unchanged when it only has safe characters, else in single quotes.</summary>
    public static string ShellQuote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))) return word;
        var quoted = new StringBuilder("'");
        foreach (char c in word) quoted.Append(c == '\'' ? "'\\''" : c.ToString());
        return quoted.Append('\'').ToString();
    }
}
