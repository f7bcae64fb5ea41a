using Forge.Autograd.Optim;
using Forge.Experiments.Framework;
using Forge.Models.Interpretability;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Language;

/// <summary>
/// The data, model and loss of one language-model run: the Brown training windows visited in a fresh order every
/// epoch, next-token cross-entropy at every position, AdamW with warm-up and cosine decay; held-out loss on the
/// validation windows.
/// </summary>
public sealed class LmRun : ExperimentRun
{
    /// <summary>Windows per forward pass of evaluation.</summary>
    public const int EvalBatch = 64;

    readonly Trainer<float, TokenBatch<float>> _trainer;
    readonly TokenEvaluator<float> _validation;

    public LmRun(LmRecipe recipe, ulong seed, int steps, Device device) : base(recipe, seed, steps)
    {
        LmRecipe = recipe;
        Corpus = LmCorpus.Load(recipe.Vocabulary);
        var mask = Enumerable.Repeat(1f, recipe.Context).ToArray();
        // Independent streams: model init (0), epoch order (3).
        Train = new FixedTokenDataset<float>(LmCorpus.Windows(Corpus.Train, recipe.Context), recipe.Context, mask, recipe.BatchSize, Mix(seed, 3));
        Validation = new FixedTokenDataset<float>(LmCorpus.Windows(Corpus.Validation, recipe.Context, recipe.ValWindows), recipe.Context, mask, EvalBatch, 0);
        ModelInitialization = recipe.Initialization;
        Model = new Transformer<float>(recipe.ModelConfig, ModelInitialization, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate, weightDecay: recipe.WeightDecay, decoupled: true);
        var schedule = new LearningRateSchedule.WarmupCosine(recipe.LearningRate, recipe.WarmupSteps, steps, recipe.LearningRate * recipe.FinalLrFraction);
        var batch = new TokenBatch<float>(recipe.BatchSize, recipe.Context, device);
        _trainer = new Trainer<float, TokenBatch<float>>(Optimizer, schedule, Train, batch, MicroBatches.Of(Model, batch, recipe.MicroBatchCount(recipe.BatchSize),
            TokenLoss.MaskedCrossEntropy));
        _validation = new TokenEvaluator<float>(Model, Validation, EvalBatch);
    }

    static ulong Mix(ulong seed, ulong stream) => Rng.ForStream(seed, stream).NextUInt64();

    public LmRecipe LmRecipe { get; }
    public LmCorpus Corpus { get; }
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

    /// <summary>The training loss on the first 512 training windows (L(w*) of the LLC).</summary>
    public override double TrainLoss() => new TokenEvaluator<float>(Model, Train, EvalBatch).Evaluate(512).Loss;

    /// <summary>ln d_vocab: a model that predicts every token as equally likely.</summary>
    public override double? ChanceLoss => Math.Log(LmRecipe.Vocabulary + 1);

    public override LlcResult EstimateLlc(LlcSettings settings, double trainLoss) =>
        LocalLearningCoefficient.Estimate(Model, Train, settings, trainLoss, LmRecipe.MicroBatchCount(settings.BatchSize));

    /// <summary>Held-out context windows.</summary>
    public override IReadOnlyList<int[]>? HeldOutPrompts(int count) =>
        Enumerable.Range(0, Math.Min(count, Validation.Count)).Select(i => Validation.Sequence(i).ToArray()).ToList();
}
