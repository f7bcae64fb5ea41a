using System.Text.Json.Serialization;
using Forge.Experiments.Framework;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// Every setting of an affine-recurrence run; each is an option of the <c>affine</c> command and a key of
/// its config.json (the sampling ranges as <c>"a": [min, max]</c>). Defaults: docs/experiments/affine.md.
/// </summary>
public sealed record AffineRecipe : GptRecipe
{
    [Setting("Range of the coefficient a of x_{n+1} = a·x_n + b, drawn uniformly per sequence.", Min = -10, Max = 10)]
    public Interval A { get; init; } = new(-1, 1);

    [Setting("Range of the offset b, drawn uniformly per sequence.", Min = -10, Max = 10)]
    public Interval B { get; init; } = new(-1, 1);

    [Setting("Range of the first term x_0, drawn uniformly per sequence.", Min = -10, Max = 10)]
    public Interval X0 { get; init; } = new(-1, 1);

    [Setting("Terms per sequence (the model reads the first L−1 and predicts each next one).", Min = 3, Max = 4096, HelpName = "L")]
    public int SequenceLength { get; init; } = 16;

    [Setting("Held-out test sequences (a fixed set, drawn once).", Min = 1, HelpName = "N")]
    public int TestSize { get; init; } = 4096;

    [Setting("Learning rate at the end of the cosine decay.", Option = "--lr-final", Min = 0, HelpName = "X")]
    public double FinalLearningRate { get; init; } = 1e-5;

    [Setting("Clip the global gradient norm to this (0: no clipping).", Min = 0, HelpName = "X")]
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>The LLC of a regression loss: calibrated with llc-calibrate on a trained model (docs/results/affine/).</summary>
    public AffineRecipe()
    {
        EvalEvery = 250;
        LlcEpsilon = 1e-5;
        LlcGamma = 1e3;
        LlcNBeta = 1e3;
        LlcBatchSize = 256;
    }

    /// <summary>The task this recipe samples.</summary>
    [JsonIgnore] public AffineTask Task => new(A, B, X0, SequenceLength);

    [JsonIgnore] public TransformerConfig ModelConfig => new()
    {
        NLayers = Layers, NHeads = Heads, DModel = DModel, DHead = DHead, DMlp = DMlp, NCtx = SequenceLength - 1,
        DIn = 1, DVocab = 1, DVocabOut = 1, Normalization = "LN",
    };

    public override IEnumerable<Allocation> Allocations()
    {
        long positions = SequenceLength - 1;
        yield return new($"the test set [test_size {TestSize} × {positions} positions]", TestSize * positions, sizeof(float), 4);
        foreach (var allocation in Footprint.Transformer(ModelConfig, BatchSize, positions, Math.Min(TestSize, AffineRun.EvalBatch)))
            yield return allocation;
    }

    public override void Validate()
    {
        if (SequenceLength < 3) throw new ArgumentException($"affine: sequence_length must be ≥ 3 (an oracle needs three terms), got {SequenceLength}");
        ModelConfig.Validate();
        if (!(LearningRate > 0) || !(FinalLearningRate >= 0) || FinalLearningRate > LearningRate)
            throw new ArgumentException($"affine: need 0 ≤ lr_final ≤ lr and lr > 0 (got lr {LearningRate}, lr_final {FinalLearningRate})");
        base.Validate();
    }
}
