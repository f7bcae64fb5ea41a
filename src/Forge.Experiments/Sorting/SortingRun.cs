using Forge.Autograd.Optim;
using Forge.Experiments.Framework;
using Forge.Models.Interpretability;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>
/// The data, model and loss of one sorting run, built from a recipe and a seed: fixed training and
/// validation sets of lists, the 1-layer attention-only model (on the run's device), Adam with coupled
/// weight decay, the per-epoch linear learning rate, and cross-entropy on the sorted half.
/// </summary>
public sealed class SortingRun : ExperimentRun
{
    readonly Trainer<float, TokenBatch<float>> _trainer;
    readonly TokenEvaluator<float> _validation;

    public SortingRun(SortingRecipe recipe, ulong seed, int steps, Device device) : base(recipe, seed, steps)
    {
        SortingRecipe = recipe;
        var task = recipe.Task;
        // Independent streams: model init, training lists, validation lists, epoch order.
        Train = task.Dataset(recipe.TrainSize, recipe.BatchSize, Mix(seed, 1), Mix(seed, 3));
        Validation = task.Dataset(recipe.ValSize, recipe.BatchSize, Mix(seed, 2), Mix(seed, 4));
        ModelInitialization = Initialization.Sorting;
        Model = new Transformer<float>(recipe.ModelConfig, ModelInitialization, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate, weightDecay: recipe.WeightDecay);
        var schedule = new LearningRateSchedule.PerEpochLinear(recipe.LearningRate, recipe.FinalLearningRate, recipe.Epochs, recipe.StepsPerEpoch);
        var batch = new TokenBatch<float>(recipe.BatchSize, task.Context, device);
        _trainer = new Trainer<float, TokenBatch<float>>(Optimizer, schedule, Train, batch, MicroBatches.Of(Model, batch, recipe.MicroBatchCount(recipe.BatchSize),
            TokenLoss.MaskedCrossEntropy));
        _validation = new TokenEvaluator<float>(Model, Validation, EvalBatch);
    }

    /// <summary>Validation sequences per evaluation batch.</summary>
    public const int EvalBatch = 1000;

    static ulong Mix(ulong seed, ulong stream) => Rng.ForStream(seed, stream).NextUInt64();

    public SortingRecipe SortingRecipe { get; }
    public FixedTokenDataset<float> Train { get; }
    public FixedTokenDataset<float> Validation { get; }
    public override Transformer<float> Model { get; }
    public override Initialization ModelInitialization { get; }
    public override Optimizer<float> Optimizer { get; }

    public override double Step(int step) => _trainer.Step(step);
    public override double LearningRate => _trainer.LearningRate;

    public override IReadOnlyList<string> EvalColumns { get; } = ["val_loss", "val_acc"];

    public override double[] Evaluate()
    {
        var metrics = _validation.Evaluate();
        return [metrics.Loss, metrics.Accuracy];
    }

    public override double TrainLoss() => new TokenEvaluator<float>(Model, Train, EvalBatch).Evaluate().Loss;

    /// <summary>ln(vocabulary): the loss of a uniform prediction.</summary>
    public override double? ChanceLoss => Math.Log(SortingRecipe.Task.Vocabulary);

    public override LlcResult EstimateLlc(LlcSettings settings, double trainLoss) =>
        LocalLearningCoefficient.Estimate(Model, Train, settings, trainLoss, SortingRecipe.MicroBatchCount(settings.BatchSize));

    /// <summary>Held-out lists with their sorted copy minus its last token: the last position predicts the largest number.</summary>
    public override IReadOnlyList<int[]>? HeldOutPrompts(int count) =>
        Enumerable.Range(0, Math.Min(count, Validation.Count)).Select(i => Validation.Sequence(i)[..^1].ToArray()).ToList();
}
