using System.CommandLine;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// <c>&lt;experiment&gt;-sweep-report</c>: aggregates every finished run of the experiment under the given
/// paths (a sweep root, a cluster's output folder, single runs — searched recursively) into the sweep
/// design's report.
/// </summary>
public sealed class SweepReportCommand(string experiment, ISweepDesign design) : ICliCommand
{
    public Command Create()
    {
        var runs = new Option<string[]>("--runs")
        {
            Description = $"Folders holding {experiment} runs (searched recursively; a run counts once it has analysis.json).",
            HelpName = "DIR",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string?>("--out") { Description = "Where to write the report and its figures/ (default: the first --runs folder).", HelpName = "DIR" };
        var command = new Command(experiment + "-sweep-report", $"Aggregate finished {experiment} runs into a sweep report with figures and the paper's claims with verdicts.")
        {
            runs, output,
        };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(runs)!;
            foreach (var folder in paths)
                if (!Directory.Exists(folder)) throw new UsageException($"--runs '{folder}' is not a folder");
            string outDir = parse.GetValue(output) ?? paths[0];
            // The report and its figures must never land inside a run (overwriting its report or figures).
            if (File.Exists(Path.Combine(outDir, Runs.RunFolder.ConfigFileName)))
                throw new UsageException($"'{outDir}' is a run folder; write the sweep report elsewhere with --out DIR");
            try { Directory.CreateDirectory(outDir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot write the sweep report to '{outDir}': {e.Message}", e);
            }
            string path = design.WriteReport(paths, outDir, parse.InvocationConfiguration.Output);
            parse.InvocationConfiguration.Output.WriteLine($"report: {path}");
            return ExitCodes.Success;
        });
        return command;
    }
}
