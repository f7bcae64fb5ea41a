using Forge.Autograd.Optim;
using Forge.Experiments.Runs;
using Forge.Experiments.Training;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>
/// The data sets, model and trainer of one sorting run, built from a recipe and a seed. The model and the
/// training batch live on <c>device</c> (default: the CPU); the data sets are host-side lists.
/// </summary>
public sealed class SortingTraining
{
    public SortingTraining(SortingRecipe recipe, ulong seed, int steps, Device? device = null)
    {
        (Recipe, Seed, Steps) = (recipe, seed, steps);
        var task = recipe.Task;
        // Independent streams: model init, training lists, validation lists, epoch order.
        Train = task.Dataset(recipe.TrainSize, recipe.BatchSize, Mix(seed, 1), Mix(seed, 3));
        Validation = task.Dataset(recipe.ValSize, recipe.BatchSize, Mix(seed, 2), Mix(seed, 4));
        Model = new Transformer<float>(recipe.ModelConfig, Initialization.Sorting, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate, weightDecay: recipe.WeightDecay);
        var schedule = new LearningRateSchedule.PerEpochLinear(recipe.LearningRate, recipe.FinalLearningRate, recipe.Epochs, recipe.StepsPerEpoch);
        Trainer = new Trainer<float, TokenBatch<float>>(Optimizer, schedule, Train, new TokenBatch<float>(recipe.BatchSize, task.Context, Model.Device),
            batch => Model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask));
    }

    SortingTraining(SortingTraining source, Transformer<float> model)
    {
        (Recipe, Seed, Steps, Train, Validation, Model, Optimizer, Trainer) =
            (source.Recipe, source.Seed, source.Steps, source.Train, source.Validation, model, source.Optimizer, source.Trainer);
    }

    /// <summary>
    /// This run for analysis on the CPU (circuits, ablations and the LLC are host code): itself when the
    /// model is already there, else the same data sets with a CPU copy of the model (not for training).
    /// </summary>
    public SortingTraining OnCpu() => Model.Device is CpuDevice ? this : new SortingTraining(this, Model.ToDevice(CpuDevice.Instance));

    static ulong Mix(ulong seed, ulong stream) => Rng.ForStream(seed, stream).NextUInt64();

    public SortingRecipe Recipe { get; }
    public ulong Seed { get; }
    public int Steps { get; }
    public FixedTokenDataset<float> Train { get; }
    public FixedTokenDataset<float> Validation { get; }
    public Transformer<float> Model { get; }
    public Adam<float> Optimizer { get; }
    public Trainer<float, TokenBatch<float>> Trainer { get; }

    public static readonly string[] EvalColumns = ["val_loss", "val_acc"];

    /// <summary>Trains inside <paramref name="folder"/> (resuming if it is resumed); returns the final validation metrics.</summary>
    public TokenMetrics Run(RunFolder folder, TextWriter output)
    {
        var evaluator = new TokenEvaluator<float>(Model, Validation, 1000);
        TokenMetrics? last = null;
        var session = new TrainingSession<TokenBatch<float>>
        {
            Folder = folder, Model = Model, Optimizer = Optimizer, Trainer = Trainer, Seed = Seed, TotalSteps = Steps,
            CheckpointSteps = CheckpointGrid.Parse(Recipe.Checkpoints, Steps), EvalEvery = Recipe.EvalEvery,
            EvalColumns = EvalColumns,
            Evaluate = () =>
            {
                last = evaluator.Evaluate();
                return [last.Loss, last.Accuracy];
            },
        };
        session.Run(output);
        return last ?? evaluator.Evaluate();
    }
}
