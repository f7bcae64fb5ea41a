using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Experiments.Framework;
using Forge.Models.Interpretability;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// The data, model and loss of one affine run: a fresh batch of sequences every step (a pure function of
/// the seed and the step, so a resumed run sees the same batches), the 3-layer GPT-style model with a
/// linear read-in of each real number, AdamW with warm-up and cosine decay, and the mean squared error of
/// every next-term prediction; a fixed held-out test set for evaluation.
/// </summary>
public sealed class AffineRun : ExperimentRun
{
    /// <summary>Test sequences per forward pass of evaluation.</summary>
    public const int EvalBatch = 1024;

    readonly Trainer<float, RegressionBatch<float>> _trainer;
    readonly RegressionPredictor<float> _predictor;
    readonly float[] _predictions;

    public AffineRun(AffineRecipe recipe, ulong seed, int steps, Device device) : base(recipe, seed, steps)
    {
        AffineRecipe = recipe;
        Task = recipe.Task;
        // Independent streams: model init (0), training batches (derived in FreshSamples), test set (2), LLC batches (3).
        ModelInitialization = recipe.Initialization;
        Model = new Transformer<float>(recipe.ModelConfig, ModelInitialization, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate, weightDecay: recipe.WeightDecay, decoupled: true);
        var schedule = new LearningRateSchedule.WarmupCosine(recipe.LearningRate, recipe.WarmupSteps, steps, recipe.FinalLearningRate);
        var batches = new FreshSamples<RegressionBatch<float>>(Rng.ForStream(seed, 1).NextUInt64(), Fill);
        var batch = new RegressionBatch<float>(recipe.BatchSize, Task.Positions, 1, 1, device);
        _trainer = new Trainer<float, RegressionBatch<float>>(Optimizer, schedule, batches, batch, MicroBatches.Of(Model, batch, recipe.MicroBatchCount(recipe.BatchSize),
            static (model, part) => Functional.MseLoss(model.Forward(part.Inputs), Var<float>.Constant(part.Targets))))
        { ClipNorm = recipe.ClipNorm };
        TestSet = new AffineTestSet(Task, recipe.TestSize, Rng.ForStream(seed, 2).NextUInt64());
        _predictor = new RegressionPredictor<float>(Model, Task.Positions, Math.Min(EvalBatch, recipe.TestSize));
        _predictions = new float[TestSet.Count * Task.Positions];
    }

    public AffineRecipe AffineRecipe { get; }
    public AffineTask Task { get; }
    public AffineTestSet TestSet { get; }
    public override Transformer<float> Model { get; }
    public override Initialization ModelInitialization { get; }
    public override Optimizer<float> Optimizer { get; }

    /// <summary>Writes a batch of fresh sequences (the host side of the batch; the trainer uploads it).</summary>
    void Fill(Rng rng, RegressionBatch<float> batch)
    {
        var inputs = batch.HostInputs.AsSpan();
        var targets = batch.HostTargets.AsSpan();
        Span<double> scratch = stackalloc double[Task.SequenceLength];
        int positions = Task.Positions;
        for (int row = 0; row < batch.BatchSize; row++)
            Task.Fill(rng, inputs.Slice(row * positions, positions), targets.Slice(row * positions, positions), scratch);
    }

    public override double Step(int step) => _trainer.Step(step);
    public override double LearningRate => _trainer.LearningRate;

    public override IReadOnlyList<string> EvalColumns { get; } = ["val_mse", "val_mse_from_2"];

    /// <summary>The model's predictions on the test set [count, positions] (refreshed by each call).</summary>
    public float[] PredictTestSet()
    {
        _predictor.Predict(TestSet.Inputs, _predictions);
        return _predictions;
    }

    public override double[] Evaluate()
    {
        var perPosition = TestSet.MsePerPosition(PredictTestSet());
        return [perPosition.Average(), perPosition.Skip(2).Average()];
    }

    /// <summary>summary.json: val_mse, and per predicted position the model's and copy-last's test MSE.</summary>
    public override IReadOnlyDictionary<string, object?> SummaryExtras(IReadOnlyList<double> lastEvaluation) => new Dictionary<string, object?>
    {
        ["val_mse"] = lastEvaluation[0],
        ["val_mse_from_2"] = lastEvaluation[1],
        ["test_mse_by_position"] = TestSet.MsePerPosition(PredictTestSet()),
        ["copy_last_mse_by_position"] = TestSet.BaselineMsePerPosition(AffineTask.CopyLast),
        ["oracle_mse_by_position"] = TestSet.BaselineMsePerPosition(Task.Oracle),
    };

    /// <summary>The loss on 16 fresh batches of the LLC stream: an estimate of the population loss L(w*).</summary>
    public override double TrainLoss()
    {
        var loss = LlcLoss(AffineRecipe.LlcBatchSize);
        var rng = Rng.ForStream(Seed, 3);
        double sum = 0;
        for (int i = 0; i < 16; i++) sum += loss.LossAndGradients(rng);
        return sum / 16;
    }

    /// <summary>The training loss (MSE) on fresh minibatches drawn from the SGLD's own random stream.</summary>
    RecordedMinibatchLoss<float> LlcLoss(int batchSize)
    {
        var batch = new RegressionBatch<float>(batchSize, Task.Positions, 1, 1);
        return new RecordedMinibatchLoss<float>(Model.Parameters.All, rng => Fill(rng, batch),
            () => Functional.MseLoss(Model.Forward(batch.Inputs), Var<float>.Constant(batch.Targets)));
    }

    /// <summary>The MSE of predicting 0 for every term (a model that learned nothing but the symmetric ranges' mean).</summary>
    public override double? ChanceLoss => TestSet.Targets.Average(t => (double)t * t);

    public override LlcResult EstimateLlc(LlcSettings settings, double trainLoss) =>
        LocalLearningCoefficient.Estimate(LlcLoss(settings.BatchSize), settings, trainLoss);

    /// <summary>Held-out sequences x_0 … x_{L−2} (d_in = 1).</summary>
    public override IReadOnlyList<float[]>? HeldOutInputs(int count) =>
        Enumerable.Range(0, Math.Min(count, TestSet.Count)).Select(i => TestSet.Inputs.AsSpan(i * TestSet.Positions, TestSet.Positions).ToArray()).ToList();
}
