using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Experiments.Sorting.Sweep;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Sorting;

/// <summary>
/// Experiment 1, list sorting in a 1-layer attention-only transformer (Urdshals &amp; Urdshals 2025; our
/// account: docs/experiments/sorting.md): the recipe, the task, the analysis and report, the development
/// analysis over checkpoints and the sweep.
/// </summary>
public sealed class SortingExperiment : Experiment<SortingRecipe, SortingRun>
{
    public override string Name => "sorting";

    public override string Description =>
        "List sorting in a 1-layer attention-only transformer (Urdshals & Urdshals 2025): train the base recipe, analyse circuits, modes, ablations and LLC, write the report.";

    public override int DefaultSteps(SortingRecipe recipe) => recipe.Epochs * recipe.StepsPerEpoch;

    public override string Describe(SortingRecipe r) =>
        $"n={r.ListLength}, max_value={r.MaxValue}, {(r.GapMean is double g ? $"gap mean {g}" : "uniform lists")}, heads={r.Heads}, d_model={r.DModel}, " +
        $"LN={(r.LayerNorm ? "on" : "off")}, wd={r.WeightDecay}";

    public override SortingRun CreateRun(SortingRecipe recipe, ulong seed, int steps, Device device) => new(recipe, seed, steps, device);

    protected override AnalysisOutcome Analyze(SortingRun run, RunFolder folder, TextWriter output)
    {
        var analysis = SortingAnalysis.Run(run, folder, output);
        return SortingReport.Write(folder, run, analysis);
    }

    public override bool HasDevelopment => true;

    protected override void AnalyzeDevelopment(SortingRun run, RunFolder folder, TextWriter output) => SortingDevelopment.Run(folder, run, output);

    public override ISweepDesign Sweep { get; } = new SortingSweep();
}
