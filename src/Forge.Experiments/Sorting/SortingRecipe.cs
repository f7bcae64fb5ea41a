using System.Text.Json.Serialization;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>
/// Every setting of a sorting run. The defaults are the base recipe of the spec (n = 10,
/// max_value = 50, 2 heads, d_model 96, d_head 48, LayerNorm, 150k/10k lists, batch 512, 25 epochs,
/// Adam with coupled decay 0.005, lr 1e-3 → 1e-4 per epoch). Written to config.json in snake_case;
/// a <c>--config</c> file may set any of them.
/// </summary>
public sealed record SortingRecipe
{
    public int ListLength { get; init; } = 10;
    public int MaxValue { get; init; } = 50;
    /// <summary>Controlled gap distribution: mean gap δ̄ of 1 + Geometric gaps; null = uniform lists (the paper's).</summary>
    public double? GapMean { get; init; }
    public int Heads { get; init; } = 2;
    public int DModel { get; init; } = 96;
    public int DHead { get; init; } = 48;
    public bool LayerNorm { get; init; } = true;
    public int TrainSize { get; init; } = 150_000;
    public int ValSize { get; init; } = 10_000;
    public int BatchSize { get; init; } = 512;
    public int Epochs { get; init; } = 25;
    public double LearningRate { get; init; } = 1e-3;
    public double FinalLearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 0.005;
    /// <summary>Checkpoint steps: <c>log:N</c>, <c>linear:K</c> or both joined with '+'.</summary>
    public string Checkpoints { get; init; } = "log:25";
    public int EvalEvery { get; init; } = 500;
    public int LlcChains { get; init; } = 4;
    public int LlcDraws { get; init; } = 200;
    public int LlcBurnIn { get; init; } = 100;
    // Calibrated with `llc-calibrate` on the final checkpoint of the base recipe (seed 0), see
    // docs/results/sorting/llc-calibration.md: with the common default nβ = batch/ln(batch) ≈ 82 every
    // chain climbs to chance-level loss (λ̂ then only measures nβ·(ln 52 − L(w*)) ≈ 325 whatever the
    // basin); nβ = 10⁴ with γ = 10⁴ and ε = 10⁻⁶ keeps the chains near w* (draw loss ≈ 0.2), levels off
    // after a short transient inside the burn-in, and gives stable estimates across chains.
    public double LlcEpsilon { get; init; } = 1e-6;
    public double LlcGamma { get; init; } = 1e4;
    /// <summary>nβ of the LLC sampler; null = batch/ln(batch).</summary>
    public double? LlcNBeta { get; init; } = 1e4;
    public int LlcBatchSize { get; init; } = 512;

    [JsonIgnore] public SortingTask Task => new SortingTask(ListLength, MaxValue, GapMean).Validate();

    [JsonIgnore] public TransformerConfig ModelConfig => new()
    {
        NLayers = 1, NHeads = Heads, DModel = DModel, DHead = DHead, DMlp = null, NCtx = Task.Context,
        DVocab = Task.Vocabulary, DVocabOut = Task.Vocabulary, Normalization = LayerNorm ? "LN" : "none",
    };

    [JsonIgnore] public int StepsPerEpoch => (TrainSize + BatchSize - 1) / BatchSize;

    public LlcSettings Llc(ulong seed) => new(LlcChains, LlcDraws, LlcBurnIn, LlcEpsilon, LlcGamma, LlcNBeta, LlcBatchSize, seed);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public SortingRecipe Validate()
    {
        _ = Task;
        ModelConfig.Validate();
        if (TrainSize < 1 || ValSize < 1 || BatchSize < 1 || Epochs < 1 || EvalEvery < 1)
            throw new ArgumentException($"sorting: train_size ({TrainSize}), val_size ({ValSize}), batch_size ({BatchSize}), epochs ({Epochs}) and eval_every ({EvalEvery}) must be ≥ 1");
        if (!(LearningRate > 0) || !(FinalLearningRate > 0) || !(WeightDecay >= 0))
            throw new ArgumentException($"sorting: learning rates must be positive and weight decay ≥ 0 (got {LearningRate}, {FinalLearningRate}, {WeightDecay})");
        Llc(0).Validate();
        return this;
    }
}
