using System.Text.Json.Serialization;
using Forge.Experiments.Framework;
using Forge.Models.Transformers;

namespace Forge.Experiments.Language;

/// <summary>
/// Every setting of an <c>lm</c> run: a GPT-style language model on the Brown corpus with GPT-2's BPE restricted
/// to its most frequent tokens. Defaults and their reasons: docs/experiments/coupling.md.
/// </summary>
public sealed record LmRecipe : GptRecipe
{
    [Setting("Kept GPT-2 tokens: <|endoftext|> and the N − 1 most frequent of the training split; every other token is <unk> (d_vocab = N + 1).", Min = 2, HelpName = "N")]
    public int Vocabulary { get; init; } = 2048;

    [Setting("Context length in tokens (n_ctx).", Min = 2, HelpName = "T")]
    public int Context { get; init; } = 64;

    [Setting("Held-out windows of the validation split evaluated (0: all of them).", Min = 0, HelpName = "N")]
    public int ValWindows { get; init; } = 512;

    [Setting("Held-out prompts of the coupling analysis (each a full context window).", Min = 1, HelpName = "N")]
    public int CouplingPrompts { get; init; } = 8;

    [Setting("Final learning rate as a fraction of the peak (cosine decay after the warm-up).", Min = 0, HelpName = "X")]
    public double FinalLrFraction { get; init; } = 0.1;

    public LmRecipe()
    {
        Layers = 4;
        Heads = 4;
        DModel = 128;
        DHead = 32;
        DMlp = 512;
        BatchSize = 32;
        WarmupSteps = 100;
        WeightDecay = 0.1;
        TrainSteps = 2000;
        Checkpoints = "log:20";
        EvalEvery = 100;
        LlcBatchSize = 64;
    }

    [JsonIgnore] public TransformerConfig ModelConfig => new()
    {
        NLayers = Layers, NHeads = Heads, DModel = DModel, DHead = DHead, DMlp = DMlp, NCtx = Context,
        DVocab = Vocabulary + 1, DVocabOut = Vocabulary + 1, Normalization = "LN",
    };

    public override IEnumerable<Allocation> Allocations()
    {
        yield return new("the training split's token stream (about 1.2 M tokens)", 1_200_000, sizeof(int));
        foreach (var allocation in Footprint.Transformer(ModelConfig, BatchSize, Context, Math.Min(Math.Max(ValWindows, 1), LmRun.EvalBatch)))
            yield return allocation;
    }

    public override void Validate()
    {
        if (Vocabulary > TextData.Gpt2Bpe.VocabularySize) throw new ArgumentException($"vocabulary {Vocabulary} exceeds GPT-2's {TextData.Gpt2Bpe.VocabularySize} tokens");
        ModelConfig.Validate();
        base.Validate();
    }
}
