using Forge.Autograd.Optim;
using Forge.Experiments.Framework;
using Forge.Models.Interpretability;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// The data, model and loss of one retrieval run: a fixed training set of the recipe's curriculum, held-out
/// sets for every number of look-ups 1 … D, the GPT-style model, AdamW with a short warm-up and then a
/// constant rate (so the loss plateaus show), and cross-entropy on the answer only.
/// </summary>
public sealed class RetrievalRun : ExperimentRun
{
    /// <summary>Held-out examples per forward pass of evaluation.</summary>
    public const int EvalBatch = 512;

    readonly Trainer<float, TokenBatch<float>> _trainer;
    readonly TokenEvaluator<float>[] _byHops;

    public RetrievalRun(RetrievalRecipe recipe, ulong seed, int steps, Device device) : base(recipe, seed, steps)
    {
        RetrievalRecipe = recipe;
        Task = recipe.Task;
        // Independent streams: model init (0), training set (1), epoch order (3), held-out sets (10 + hops).
        Train = Task.TrainingSet(recipe.TrainSize, recipe.BatchSize, Mix(seed, 1), Mix(seed, 3));
        ByHops = Enumerable.Range(1, recipe.Depth).Select(h => Task.EvaluationSet(h, recipe.ValSize, EvalBatch, Mix(seed, 10 + (ulong)h))).ToArray();
        ModelInitialization = recipe.Initialization;
        Model = new Transformer<float>(recipe.ModelConfig, ModelInitialization, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate, weightDecay: recipe.WeightDecay, decoupled: true);
        var schedule = new LearningRateSchedule.WarmupCosine(recipe.LearningRate, recipe.WarmupSteps, steps, recipe.LearningRate);
        var batch = new TokenBatch<float>(recipe.BatchSize, Task.Context, device);
        _trainer = new Trainer<float, TokenBatch<float>>(Optimizer, schedule, Train, batch, MicroBatches.Of(Model, batch, recipe.MicroBatchCount(recipe.BatchSize),
            TokenLoss.MaskedCrossEntropy));
        _byHops = ByHops.Select(set => new TokenEvaluator<float>(Model, set, EvalBatch)).ToArray();
        EvalColumns = ["val_loss", "val_acc", .. Enumerable.Range(1, recipe.Depth).Select(h => $"acc_hops_{h}")];
    }

    static ulong Mix(ulong seed, ulong stream) => Rng.ForStream(seed, stream).NextUInt64();

    public RetrievalRecipe RetrievalRecipe { get; }
    public RetrievalTask Task { get; }
    public FixedTokenDataset<float> Train { get; }
    /// <summary>Held-out sets: [h − 1] holds examples that take h look-ups.</summary>
    public FixedTokenDataset<float>[] ByHops { get; }
    public override Transformer<float> Model { get; }
    public override Initialization ModelInitialization { get; }
    public override Optimizer<float> Optimizer { get; }

    public override double Step(int step) => _trainer.Step(step);
    public override double LearningRate => _trainer.LearningRate;

    /// <summary>val_loss and val_acc at the full depth D, then the accuracy for every number of look-ups.</summary>
    public override IReadOnlyList<string> EvalColumns { get; }

    public override double[] Evaluate()
    {
        var metrics = _byHops.Select(e => e.Evaluate()).ToArray();
        return [metrics[^1].Loss, metrics[^1].Accuracy, .. metrics.Select(m => m.Accuracy)];
    }

    /// <summary>The training loss on the first 8,192 training examples (L(w*) of the LLC).</summary>
    public override double TrainLoss() => new TokenEvaluator<float>(Model, Train, EvalBatch).Evaluate(8192).Loss;

    /// <summary>ln K: a model that knows the answer is one of the K values but not which.</summary>
    public override double? ChanceLoss => Math.Log(RetrievalRecipe.Chains);

    public override LlcResult EstimateLlc(LlcSettings settings, double trainLoss) =>
        LocalLearningCoefficient.Estimate(Model, Train, settings, trainLoss, RetrievalRecipe.MicroBatchCount(settings.BatchSize));

    /// <summary>Held-out examples at the full depth, up to the queried name: the last position predicts the answer.</summary>
    public override IReadOnlyList<int[]>? HeldOutPrompts(int count) =>
        Enumerable.Range(0, Math.Min(count, ByHops[^1].Count)).Select(i => ByHops[^1].Sequence(i)[..(Task.AnswerPosition + 1)].ToArray()).ToList();
}
