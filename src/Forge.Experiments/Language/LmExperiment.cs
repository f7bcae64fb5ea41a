using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Language;

/// <summary>
/// The language models of experiment 4 (block coupling, Aubry et al. 2025; our account: docs/experiments/coupling.md):
/// GPT-style models trained on the Brown corpus, analysed for held-out loss and for the coupling of their blocks'
/// Jacobians; the family sweep correlates the two.
/// </summary>
public sealed class LmExperiment : Experiment<LmRecipe, LmRun>
{
    public override string Name => "lm";

    public override string Description =>
        "A GPT-style language model on the Brown corpus (GPT-2 BPE, restricted vocabulary): train, then report held-out loss and the coupling of its blocks' residual Jacobians.";

    public override int DefaultSteps(LmRecipe recipe) => recipe.TrainSteps;

    public override string Describe(LmRecipe r) =>
        $"{r.Layers} layers, d_model {r.DModel}, {r.Heads} heads, d_mlp {r.DMlp}, context {r.Context}, vocabulary {r.Vocabulary} + <unk>; " +
        $"batch {r.BatchSize}, lr {r.LearningRate}, weight decay {r.WeightDecay}";

    public override LmRun CreateRun(LmRecipe recipe, ulong seed, int steps, Device device) => new(recipe, seed, steps, device);

    protected override AnalysisOutcome Analyze(LmRun run, RunFolder folder, TextWriter output) => LmReport.Write(folder, run, output);

    public override ISweepDesign Sweep { get; } = new LmSweep();

    public override bool HasDevelopment => true;

    protected override void AnalyzeDevelopment(LmRun run, RunFolder folder, TextWriter output) => LmDevelopment.Run(folder, run, output);
}
