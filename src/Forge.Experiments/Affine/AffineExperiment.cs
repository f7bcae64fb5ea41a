using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Affine;

/// <summary>
/// Experiment 2, affine recurrences learned in context by a 3-layer GPT-style transformer (Bhargav &amp; Gu
/// 2024; our account: docs/experiments/affine.md): the recipe, the task, the analysis and report, and the
/// seed sweep.
/// </summary>
public sealed class AffineExperiment : Experiment<AffineRecipe, AffineRun>
{
    public override string Name => "affine";

    public override string Description =>
        "Affine recurrences x_{n+1} = a·x_n + b learned in context by a 3-layer GPT (Bhargav & Gu 2024): train, then find the copy heads and the " +
        "negative-similarity heads (MSE against copy-last and the oracle, attention, lens, similarity regressions, ablations, patching, LLC) and write the report.";

    public override int DefaultSteps(AffineRecipe recipe) => recipe.TrainSteps;

    public override string Describe(AffineRecipe r) =>
        $"a ∈ [{r.A}], b ∈ [{r.B}], x_0 ∈ [{r.X0}], {r.SequenceLength} terms; {r.Layers} layers, {r.Heads} heads, d_model {r.DModel}, d_mlp {r.DMlp}; batch {r.BatchSize}";

    public override AffineRun CreateRun(AffineRecipe recipe, ulong seed, int steps, Device device) => new(recipe, seed, steps, device);

    protected override AnalysisOutcome Analyze(AffineRun run, RunFolder folder, TextWriter output) =>
        AffineReport.Write(folder, run, AffineAnalysis.Run(run, folder, output));

    public override ISweepDesign Sweep { get; } = new AffineSweep();
}
