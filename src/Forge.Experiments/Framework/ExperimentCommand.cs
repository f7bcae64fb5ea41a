using System.CommandLine;
using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Experiments.Training;

namespace Forge.Experiments.Framework;

/// <summary>
/// The command of one experiment (<c>sorting</c>, <c>affine</c>, …): the common options, one option per
/// recipe setting, <c>--no-analysis</c>. It settles every setting before it writes anything — so a bad
/// value leaves no folder behind — then writes config.json, trains with the <see cref="TrainingLoop"/>,
/// and analyses the model on the CPU.
/// </summary>
public sealed class ExperimentCommand<TRecipe, TRun>(Experiment<TRecipe, TRun> experiment) : ICliCommand
    where TRecipe : Recipe, new() where TRun : ExperimentRun
{
    public Command Create()
    {
        var command = new Command(experiment.Name, experiment.Description);
        var common = new CommonOptions(experiment.DefaultSteps(new TRecipe()));
        common.AddTo(command);
        experiment.Options.AddTo(command);
        var noAnalysis = new Option<bool>("--no-analysis") { Description = "Train only; skip the analysis and the report." };
        command.Options.Add(noAnalysis);
        command.SetAction(parse => Run(parse, common.Bind(parse), parse.GetValue(noAnalysis)));
        return command;
    }

    int Run(ParseResult parse, CommonSettings settings, bool noAnalysis)
    {
        var output = parse.InvocationConfiguration.Output;
        var (folder, recipe, resolved) = settings.Resume ? Continue(parse, settings) : Start(parse, settings);
        using (folder)
        {
            resolved.Apply();
            using var denormals = DenormalMode.Apply(recipe, output);
            folder.WriteConfig(resolved, recipe);
            output.WriteLine($"{experiment.Name} run → {folder.Root}");
            output.WriteLine($"{experiment.Describe(recipe)}; {resolved.Steps} steps, seed {resolved.Seed}, device {resolved.Device}");

            var run = experiment.CreateRun(recipe, resolved.Seed, resolved.Steps, DeviceCatalog.Resolve(resolved.Device));
            var evaluation = TrainingLoop.Run(run, folder, output);
            output.WriteLine("validation: " + string.Join(", ", run.EvalColumns.Zip(evaluation).Select(p => $"{p.First} {p.Second:F4}")));
            if (noAnalysis) return ExitCodes.Success;

            var onCpu = run.Model.Device is CpuDevice ? run : experiment.Load(folder, run.Steps);
            string summary = ((IExperiment)experiment).Analyze(onCpu, folder, output);
            output.WriteLine($"{summary}; report: {folder.ReportPath}");
            return ExitCodes.Success;
        }
    }

    /// <summary>A new run: the recipe from defaults, --config and options; its length from --steps or the recipe.</summary>
    (RunFolder, TRecipe, CommonSettings) Start(ParseResult parse, CommonSettings settings)
    {
        string? source = null;
        if (settings.Config is { } config)
        {
            source = $"config file '{settings.ConfigPath}'";
            if (config["experiment"] is JsonValue e && e.TryGetValue(out string? name) && name != experiment.Name)
                throw new UsageException($"{source} is for the '{name}' experiment, not '{experiment.Name}'");
        }
        var recipe = experiment.Options.Bind(settings.Config, source, experiment.Options.Explicit(parse));
        if (!settings.StepsGiven) settings = settings with { Steps = experiment.DefaultSteps(recipe) };
        Footprint.Check(experiment.Name, recipe.Allocations());
        return (RunFolder.Open(experiment.Name, settings), recipe, settings);
    }

    /// <summary>
    /// A resumed run continues the recipe and seed of its config.json: it is the same run. Only its length
    /// may grow (--steps) and its device change; any other setting given that differs is refused.
    /// </summary>
    (RunFolder, TRecipe, CommonSettings) Continue(ParseResult parse, CommonSettings settings)
    {
        var folder = RunFolder.Open(experiment.Name, settings);
        try
        {
            var (recipe, resolved) = ContinueIn(folder, parse, settings);
            return (folder, recipe, resolved);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    (TRecipe, CommonSettings) ContinueIn(RunFolder folder, ParseResult parse, CommonSettings settings)
    {
        var stored = experiment.ReadStored(folder);
        Footprint.Check(experiment.Name, stored.Recipe.Allocations());
        var storedJson = RecipeOptions<TRecipe>.ToJson(stored.Recipe);
        foreach (var (key, value) in experiment.Options.Explicit(parse))
            if (!JsonNode.DeepEquals(value, storedJson[key]))
                throw new UsageException($"--resume continues the run in '{folder.Root}' with its own settings: " +
                                         $"{key} is {storedJson[key]?.ToJsonString() ?? "null"} there, not {value?.ToJsonString() ?? "null"}");
        if (settings.Config is not null)
            throw new UsageException("--resume takes the settings from the run folder's config.json; --config cannot change them");
        if (settings.SeedGiven && settings.Seed != stored.Seed)
            throw new UsageException($"--resume continues the run in '{folder.Root}' with its seed {stored.Seed}, not {settings.Seed}");
        int steps = settings.StepsGiven ? settings.Steps : stored.Steps;
        long latest = folder.LatestCheckpointStep() ?? 0;
        if (steps < latest)
            throw new UsageException($"--steps {steps} is below the run's latest checkpoint (step {latest}); a resumed run can only continue");
        if (folder.IsFinished && steps < stored.Steps)
            throw new UsageException($"the run in '{folder.Root}' finished {stored.Steps} steps; --steps {steps} cannot shorten it");
        // The device may change (the numbers then follow the new device's rounding); config.json records it.
        // Without --device the run stays where it was, when this machine has that device.
        string device = !settings.DeviceGiven && stored.Device is { } was && DeviceCatalog.Problem(was) is null ? was : settings.Device;
        return (stored.Recipe, settings with { Seed = stored.Seed, Steps = steps, StepsGiven = true, Device = device });
    }
}
