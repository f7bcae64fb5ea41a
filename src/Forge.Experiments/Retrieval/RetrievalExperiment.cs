using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// Experiment 3, the retrieval problem (Mușat 2025; our account: docs/experiments/retrieval.md): chains of
/// assignments among distractors, a query for the end of one chain; the depth bound, the curriculum, and
/// the order in which heads emerge.
/// </summary>
public sealed class RetrievalExperiment : Experiment<RetrievalRecipe, RetrievalRun>
{
    public override string Name => "retrieval";

    public override string Description =>
        "Multi-hop retrieval (Mușat 2025): chains of assignments among distractors, a query for a chain's value; train with or without a curriculum, " +
        "measure accuracy per number of look-ups over training and write the report.";

    public override int DefaultSteps(RetrievalRecipe recipe) => recipe.TrainSteps;

    public override string Describe(RetrievalRecipe r) =>
        $"depth {r.Depth}, {r.Chains} chains, curriculum {r.Curriculum}; {r.Layers} layers (bound ⌈log₃(2D)⌉ = {RetrievalRecipe.LayersNeeded(r.Depth)}), " +
        $"{r.Heads} heads, d_model {r.DModel}{(r.AttentionOnly ? ", attention only" : $", d_mlp {r.DMlp}")}; batch {r.BatchSize}, {r.TrainSize} training examples";

    public override RetrievalRun CreateRun(RetrievalRecipe recipe, ulong seed, int steps, Device device) => new(recipe, seed, steps, device);

    protected override AnalysisOutcome Analyze(RetrievalRun run, RunFolder folder, TextWriter output) => RetrievalReport.Write(folder, run, output);

    public override ISweepDesign Sweep { get; } = new RetrievalSweep();

    public override bool HasDevelopment => true;

    protected override void AnalyzeDevelopment(RetrievalRun run, RunFolder folder, TextWriter output) => RetrievalDevelopment.Run(folder, run, output);
}
