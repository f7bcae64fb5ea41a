using System.CommandLine;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// <c>sorting-sweep-report</c>: aggregates every finished sorting run folder under the given paths
/// (a sweep root, a cluster's output folder, single runs — searched recursively) into sweep-report.md
/// with figures: mode fractions, δ̄, LLC and accuracy per setting, and the paper's claims with verdicts.
/// </summary>
public sealed class SortingSweepReportCommand : ICliCommand
{
    public Command Create()
    {
        var runs = new Option<string[]>("--runs")
        {
            Description = "Folders holding sorting runs (searched recursively; a run counts once it has analysis.json).",
            HelpName = "DIR",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string?>("--out") { Description = "Where to write sweep-report.md and figures/ (default: the first --runs folder).", HelpName = "DIR" };
        var command = new Command("sorting-sweep-report",
            "Aggregate finished sorting runs into sweep-report.md: fraction of seeds per final mode, δ̄, LLC by mode and accuracy per setting, and the paper's claims with verdicts.")
        {
            runs, output,
        };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(runs)!;
            string outDir = parse.GetValue(output) ?? paths[0];
            string path = Run(paths, outDir, parse.InvocationConfiguration.Output);
            parse.InvocationConfiguration.Output.WriteLine($"report: {path}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Finds the runs under <paramref name="paths"/> and writes the report into <paramref name="outDir"/>; returns its path.</summary>
    public static string Run(IReadOnlyList<string> paths, string outDir, TextWriter output)
    {
        var (finished, unfinished) = FinishedRun.FindAll(paths);
        output.WriteLine($"{finished.Count} finished sorting runs in {finished.Select(r => r.Setting).Distinct().Count()} settings" +
                         (unfinished.Count > 0 ? $"; {unfinished.Count} unfinished left out" : ""));
        return SweepReport.Write(outDir, finished, unfinished, paths.Select(Path.GetFullPath).ToList());
    }
}
