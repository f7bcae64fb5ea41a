using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Sorting;

/// <summary>
/// <c>analyze</c>: re-runs the analysis of a sorting run folder (any checkpoint, default the latest)
/// and rewrites its report; with <c>--development</c>, analyses every checkpoint over training.
/// </summary>
public sealed class AnalyzeCommand : ICliCommand
{
    public Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run folder to analyse.", HelpName = "DIR", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step to analyse (default: the latest).", HelpName = "N" };
        var development = new Option<bool>("--development") { Description = "Analyse every checkpoint: loss, accuracy, LLC, mode and OV over training (development.md)." };
        var threads = OptionFactory.Int("--threads", "Kernel threads, caller included.", Environment.ProcessorCount, 1);
        var command = new Command("analyze", "Analyse a sorting run folder: circuits, mode, ablations, LLC and report; --development for the analysis over checkpoints.")
        {
            run, step, development, threads,
        };
        command.SetAction(parse =>
        {
            Kernels.Threading.ForkJoin.Threads = parse.GetValue(threads);
            var output = parse.InvocationConfiguration.Output;
            string dir = parse.GetValue(run)!;
            if (!Directory.Exists(dir)) throw new UsageException($"run folder '{dir}' does not exist");
            var folder = RunFolder.Open("sorting", dir, resume: true);
            long? chosen = parse.GetValue(step);
            if (chosen is long s && !folder.CheckpointSteps().Contains(s))
                throw new UsageException($"'{dir}' has no checkpoint at step {s} (it has {string.Join(", ", folder.CheckpointSteps())})");
            var training = SortingRunFolder.Load(folder, chosen);
            if (parse.GetValue(development))
            {
                output.WriteLine($"development analysis of {folder.CheckpointSteps().Count} checkpoints");
                SortingDevelopment.Run(folder, training, output);
                output.WriteLine($"written: {Path.Combine(folder.Root, "development.md")}");
                return ExitCodes.Success;
            }
            var analysis = SortingAnalysis.Run(training, folder, output);
            SortingReport.Write(folder, training, analysis);
            output.WriteLine($"mode: {analysis.Modes.Mode}; LLC {analysis.Llc.Mean:F1} ± {analysis.Llc.Std:F1}; report: {folder.ReportPath}");
            return ExitCodes.Success;
        });
        return command;
    }
}
