using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Models.Training;

namespace Forge.Experiments.Sorting;

/// <summary>
/// <c>sorting</c>: trains the 1-layer attention-only transformer on list sorting (the base recipe by
/// default), then analyses it — circuits, mode label, ablations, LLC — and writes the report.
/// </summary>
public sealed class SortingCommand : ExperimentCommand
{
    readonly SortingOptions _options = new();

    public override string Name => "sorting";
    public override string Description =>
        "List sorting in a 1-layer attention-only transformer (Urdshals & Urdshals 2025): train the base recipe, analyse circuits, modes, ablations and LLC, write the report.";
    protected override int DefaultSteps => new SortingRecipe().Epochs * new SortingRecipe().StepsPerEpoch;

    protected override void AddOptions(Command command) => _options.AddTo(command);

    protected override int Run(ExperimentContext context)
    {
        // Options are checked before anything is created, so a bad value leaves no folder behind.
        var given = context.Settings.Resume ? null : _options.Bind(context.ParseResult, context.Settings);
        var folder = RunFolder.Open(Name, context.Settings);
        var (recipe, settings) = given is null ? StoredSettings(folder, context.Settings) : (given, context.Settings);
        int steps = settings.StepsGiven ? settings.Steps : recipe.Epochs * recipe.StepsPerEpoch;
        folder.WriteConfig(settings with { Steps = steps }, recipe);
        var output = context.Output;
        output.WriteLine($"sorting run → {folder.Root}");
        output.WriteLine($"n={recipe.ListLength}, max_value={recipe.MaxValue}, heads={recipe.Heads}, d_model={recipe.DModel}, LN={(recipe.LayerNorm ? "on" : "off")}, wd={recipe.WeightDecay}, {steps} steps, seed {settings.Seed}");

        var training = new SortingTraining(recipe, settings.Seed, steps, DeviceCatalog.Resolve(settings.Device));
        TokenMetrics final;
        try { final = training.Run(folder, output); }
        catch (TrainingDivergedException e)
        {
            output.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        output.WriteLine($"validation: loss {final.Loss:F4}, per-token accuracy {final.Accuracy:F4}, mean p(correct) {final.MeanCorrectProbability:F4}");
        if (context.ParseResult.GetValue(_options.NoAnalysis)) return ExitCodes.Success;

        var onCpu = training.OnCpu();
        var analysis = SortingAnalysis.Run(onCpu, folder, output);
        SortingReport.Write(folder, onCpu, analysis);
        output.WriteLine($"mode: {analysis.Modes.Mode}; LLC {analysis.Llc.Mean:F1} ± {analysis.Llc.Std:F1}; report: {folder.ReportPath}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// A resumed run continues with the recipe and seed in its config.json (only --steps may extend it),
    /// so the continuation is the same run, whatever other options are passed.
    /// </summary>
    static (SortingRecipe, CommonSettings) StoredSettings(RunFolder folder, CommonSettings given)
    {
        var (recipe, seed, storedSteps) = SortingRunFolder.ReadSettings(folder);
        int steps = given.StepsGiven ? given.Steps : storedSteps;
        return (recipe, given with { Seed = seed, Steps = steps, StepsGiven = true });
    }
}
