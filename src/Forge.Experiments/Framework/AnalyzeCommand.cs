using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Framework;

/// <summary>
/// <c>analyze</c>: re-runs the analysis of a run folder of any experiment — the one its config.json
/// names — on any checkpoint (default the latest) and rewrites its report; with <c>--development</c>,
/// the experiment's analysis over every checkpoint.
/// </summary>
public sealed class AnalyzeCommand : ICliCommand
{
    public Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run folder to analyse (of any experiment).", HelpName = "DIR", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step to analyse (default: the latest).", HelpName = "N" };
        var development = new Option<bool>("--development") { Description = "Analyse every checkpoint over training (development.md), where the experiment has such an analysis." };
        var threads = OptionFactory.Int("--threads", "Kernel threads, caller included.", Environment.ProcessorCount, 1, 1024);
        var command = new Command("analyze", "Analyse a run folder of any experiment (the one its config.json names) and rewrite its report; --development for the analysis over checkpoints.")
        {
            run, step, development, threads,
        };
        command.SetAction(parse =>
        {
            Kernels.Threading.ForkJoin.Threads = parse.GetValue(threads);
            var output = parse.InvocationConfiguration.Output;
            var (experiment, folder) = RunFolder.OpenExisting(parse.GetValue(run)!);
            using var held = folder;
            bool overCheckpoints = parse.GetValue(development);
            if (overCheckpoints && !experiment.HasDevelopment)
                throw new UsageException($"the {experiment.Name} experiment has no development analysis");
            var loaded = experiment.Load(folder, parse.GetValue(step));
            using var denormals = DenormalMode.Apply(loaded.Recipe, output);   // the run's own arithmetic, as when it was trained
            if (overCheckpoints)
            {
                output.WriteLine($"development analysis of {folder.CheckpointSteps().Count} checkpoints");
                experiment.AnalyzeDevelopment(loaded, folder, output);
                output.WriteLine($"written: {Path.Combine(folder.Root, "development.md")}");
                return ExitCodes.Success;
            }
            output.WriteLine($"{experiment.Analyze(loaded, folder, output)}; report: {folder.ReportPath}");
            return ExitCodes.Success;
        });
        return command;
    }
}
