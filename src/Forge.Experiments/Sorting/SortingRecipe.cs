using System.Text.Json.Serialization;
using Forge.Experiments.Framework;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>
/// Every setting of a sorting run; each is an option of the <c>sorting</c> command and a key of its
/// config.json. The defaults are the base recipe of the paper's public precursor (n = 10, max_value = 50,
/// 2 heads, d_model 96, d_head 48, LayerNorm, 150k/10k lists, batch 512, 25 epochs, Adam with coupled
/// decay 0.005, lr 1e-3 → 1e-4 per epoch); docs/experiments/sorting.md gives the reasons.
/// </summary>
public sealed record SortingRecipe : Recipe
{
    [Setting("Numbers per list (n).", Min = 1, HelpName = "N")]
    public int ListLength { get; init; } = 10;

    [Setting("Numbers are drawn from 0..max_value.", Min = 1, HelpName = "N")]
    public int MaxValue { get; init; } = 50;

    /// <summary>Controlled gap distribution: mean gap δ̄ of 1 + Geometric gaps; null = uniform lists (the paper's).</summary>
    [Setting("Controlled gaps: lists with i.i.d. 1+Geometric gaps of this mean; 'uniform': lists drawn uniformly (the paper's).", Min = 1, NullWord = "uniform", HelpName = "X")]
    public double? GapMean { get; init; }

    [Setting("Attention heads.", Min = 1, HelpName = "N")]
    public int Heads { get; init; } = 2;

    [Setting("Residual width.", Min = 1, HelpName = "N")]
    public int DModel { get; init; } = 96;

    [Setting("Head width.", Min = 1, HelpName = "N")]
    public int DHead { get; init; } = 48;

    [Setting("Train without LayerNorm.", Option = "--no-layernorm", Negated = true)]
    public bool LayerNorm { get; init; } = true;

    [Setting("Lists in the fixed training set.", Min = 1, HelpName = "N")]
    public int TrainSize { get; init; } = 150_000;

    [Setting("Lists in the validation set.", Min = 1, HelpName = "N")]
    public int ValSize { get; init; } = 10_000;

    [Setting("Lists per step.", Min = 1, HelpName = "N")]
    public int BatchSize { get; init; } = 512;

    [Setting("Passes over the training set (sets the steps unless --steps is given).", Min = 1, HelpName = "N")]
    public int Epochs { get; init; } = 25;

    [Setting("Learning rate of the first epoch.", Option = "--lr", Min = 0, HelpName = "X")]
    public double LearningRate { get; init; } = 1e-3;

    [Setting("Learning rate of the last epoch (linear per epoch in between).", Option = "--lr-final", Min = 0, HelpName = "X")]
    public double FinalLearningRate { get; init; } = 1e-4;

    [Setting("Adam's coupled L2 weight decay.", Min = 0, HelpName = "X")]
    public double WeightDecay { get; init; } = 0.005;

    /// <summary>
    /// The LLC settings calibrated with <c>llc-calibrate</c> on the final checkpoint of the base recipe
    /// (seed 0; docs/results/sorting/llc-calibration.md): with the common default nβ = batch/ln(batch) ≈ 82
    /// every chain climbs to chance-level loss (λ̂ then only measures nβ·(ln 52 − L(w*)) ≈ 325 whatever the
    /// basin); nβ = 10⁴ with γ = 10⁴ and ε = 10⁻⁶ keeps the chains near w* (draw loss ≈ 0.2), levels off
    /// after a short transient inside the burn-in, and gives stable estimates across chains.
    /// </summary>
    public SortingRecipe()
    {
        // Parts of 32 lists (16 per batch of 512): a part's activations fit a core's L2 (docs/performance.md, "Micro-batches").
        MicroBatch = 32;
        // Late in training the sorting model's softmax gives denormal probabilities; flushing them keeps the step at
        // its early speed on Intel cores (docs/performance.md, "Issue 17, tenth round").
        Denormals = "flush";
        LlcEpsilon = 1e-6;
        LlcGamma = 1e4;
        LlcNBeta = 1e4;
    }

    [JsonIgnore] public SortingTask Task => new SortingTask(ListLength, MaxValue, GapMean).Validate();

    [JsonIgnore] public TransformerConfig ModelConfig => new()
    {
        NLayers = 1, NHeads = Heads, DModel = DModel, DHead = DHead, DMlp = null, NCtx = Task.Context,
        DVocab = Task.Vocabulary, DVocabOut = Task.Vocabulary, Normalization = LayerNorm ? "LN" : "none",
    };

    [JsonIgnore] public int StepsPerEpoch => (TrainSize + BatchSize - 1) / BatchSize;

    public override IEnumerable<Allocation> Allocations()
    {
        long context = Task.Context;
        yield return new($"the training lists [train_size {TrainSize} × {context} positions]", TrainSize * context, sizeof(int));
        yield return new($"the validation lists [val_size {ValSize} × {context} positions]", ValSize * context, sizeof(int));
        foreach (var allocation in Footprint.Transformer(ModelConfig, BatchSize, context, Math.Min(ValSize, SortingRun.EvalBatch)))
            yield return allocation;
    }

    public override void Validate()
    {
        _ = Task;
        if ((long)Epochs * StepsPerEpoch > int.MaxValue)
            throw new ArgumentException($"sorting: {Epochs} epochs of {StepsPerEpoch} steps exceed {int.MaxValue} steps");
        ModelConfig.Validate();
        if (TrainSize < 1 || ValSize < 1 || BatchSize < 1 || Epochs < 1)
            throw new ArgumentException($"sorting: train_size ({TrainSize}), val_size ({ValSize}), batch_size ({BatchSize}) and epochs ({Epochs}) must be ≥ 1");
        if (!(LearningRate > 0) || !(FinalLearningRate > 0) || !(WeightDecay >= 0))
            throw new ArgumentException($"sorting: learning rates must be positive and weight decay ≥ 0 (got {LearningRate}, {FinalLearningRate}, {WeightDecay})");
        base.Validate();
    }
}
