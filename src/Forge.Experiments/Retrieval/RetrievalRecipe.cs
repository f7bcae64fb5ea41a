using System.Text.Json.Serialization;
using Forge.Experiments.Framework;
using Forge.Models.Transformers;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// Every setting of a retrieval run; each is an option of the <c>retrieval</c> command and a key of its
/// config.json. Defaults and their reasons: docs/experiments/retrieval.md.
/// </summary>
public sealed record RetrievalRecipe : GptRecipe
{
    [Setting("Look-up steps D of the target problem (the depth of every chain at full length).", Min = 1, HelpName = "D")]
    public int Depth { get; init; } = 2;

    [Setting("Chains per example: one is queried, the others distract (chance = 1/chains).", Min = 1, HelpName = "K")]
    public int Chains { get; init; } = 2;

    [Setting("Name tokens in the vocabulary (each example uses chains × depth of them).", Min = 1, HelpName = "N")]
    public int Names { get; init; } = 48;

    [Setting("Value tokens in the vocabulary.", Min = 1, HelpName = "N")]
    public int Values { get; init; } = 16;

    [Setting("Training data: none (every example at full depth), mixed (depths 1…D) or intermediate (full depth, the query at a random chain position).", HelpName = "KIND")]
    public string Curriculum { get; init; } = "mixed";

    [Setting("Queries per training example, each of a different chain, each answer supervised (more signal per example); only the first is evaluated.", Min = 1, HelpName = "Q")]
    public int Queries { get; init; } = 1;

    [Setting("A separator token after every statement (three tokens a statement), so the token after a name is never another statement's lhs.", Negated = false)]
    public bool Separator { get; init; }

    [Setting("Blocks with an MLP after the attention (GPT-style); the default is attention-only blocks, which learn two look-ups more cleanly (docs/experiments/retrieval.md).", Negated = false)]
    public bool Mlp { get; init; }

    [JsonIgnore] public bool AttentionOnly => !Mlp;

    [Setting("Examples in the fixed training set.", Min = 1, HelpName = "N")]
    public int TrainSize { get; init; } = 1 << 17;

    [Setting("Held-out examples per number of look-ups.", Min = 1, HelpName = "N")]
    public int ValSize { get; init; } = 1024;

    public RetrievalRecipe()
    {
        // Log-spaced for the early plateaus, plus every 1,000 steps so the late arrivals (the second look-up comes
        // after 9,000–16,000 steps) are timed to a thousand steps, not to the log grid's 10,102 → 14,213 → 20,000.
        Checkpoints = "log:30+linear:1000";
        EvalEvery = 200;
        BatchSize = 128;
        WarmupSteps = 200;
        // With GPT-2's N(0, 0.02²) every model we tried sat at chance (even one look-up, 20,000 steps); with
        // PyTorch's layer defaults one look-up is solved in 500 steps (docs/experiments/retrieval.md).
        Init = "pytorch";
        TrainSteps = 20_000;
    }

    [JsonIgnore] public Curriculum CurriculumKind => Curriculum switch
    {
        "none" => Retrieval.Curriculum.None,
        "mixed" => Retrieval.Curriculum.Mixed,
        "intermediate" => Retrieval.Curriculum.Intermediate,
        _ => throw new ArgumentException($"retrieval: curriculum '{Curriculum}' is not one of none, mixed, intermediate"),
    };

    [JsonIgnore] public RetrievalTask Task => new RetrievalTask(Depth, Chains, Names, Values, CurriculumKind, Queries, Separator).Validate();

    [JsonIgnore] public TransformerConfig ModelConfig => new()
    {
        NLayers = Layers, NHeads = Heads, DModel = DModel, DHead = DHead, DMlp = AttentionOnly ? null : DMlp, NCtx = Task.Context,
        DVocab = Task.Vocabulary, DVocabOut = Task.Vocabulary, Normalization = "LN",
    };

    /// <summary>⌈log₃(2D)⌉: the fewest layers that can bring a depth-D answer to the query (3^t ≥ 2D).</summary>
    public static int LayersNeeded(int depth)
    {
        int layers = 0;
        for (long reach = 1; reach < 2L * depth; reach *= 3) layers++;
        return layers;
    }

    public override IEnumerable<Allocation> Allocations()
    {
        long context = Task.Context;
        yield return new($"the training set [train_size {TrainSize} × {context} tokens]", TrainSize * context, sizeof(int));
        yield return new($"the held-out sets [{Depth} depths × val_size {ValSize} × {context} tokens]", (long)ValSize * context, sizeof(int), Depth);
        foreach (var allocation in Footprint.Transformer(ModelConfig, BatchSize, context, Math.Min(ValSize, RetrievalRun.EvalBatch)))
            yield return allocation;
    }

    public override void Validate()
    {
        _ = Task;
        ModelConfig.Validate();
        base.Validate();
    }
}
