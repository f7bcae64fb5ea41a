using Forge.Autograd.Optim;
using Forge.Models.Checkpoints;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Experiments.Framework;

/// <summary>
/// The live objects of one run — model, optimizer, data and loss — built by a paper's task from its
/// recipe, a seed and a length. The generic training loop (<see cref="Training.TrainingLoop"/>) calls
/// <see cref="Step"/> and <see cref="Evaluate"/>; analyses read <see cref="Model"/>; the LLC commands
/// call <see cref="EstimateLlc"/>. Everything here is a pure function of (recipe, seed, step), which is
/// what makes a resumed run equal an uninterrupted one.
/// </summary>
public abstract class ExperimentRun
{
    protected ExperimentRun(Recipe recipe, ulong seed, int steps) => (Recipe, Seed, Steps) = (recipe, seed, steps);

    public Recipe Recipe { get; }
    public ulong Seed { get; }
    /// <summary>The run's total number of optimizer steps.</summary>
    public int Steps { get; }

    public abstract Transformer<float> Model { get; }
    public abstract Optimizer<float> Optimizer { get; }

    /// <summary>Optimizer step <paramref name="step"/> (0-based): its batch, loss, gradients and update; returns the batch loss.</summary>
    public abstract double Step(int step);

    /// <summary>The learning rate of the latest <see cref="Step"/>.</summary>
    public abstract double LearningRate { get; }

    /// <summary>The metrics.csv columns <see cref="Evaluate"/> fills (after <c>step,lr,train_loss</c>).</summary>
    public abstract IReadOnlyList<string> EvalColumns { get; }

    /// <summary>Held-out metrics of the current weights, in <see cref="EvalColumns"/> order.</summary>
    public abstract double[] Evaluate();

    /// <summary>
    /// Entries of summary.json after the four required ones: by default the last evaluation under the
    /// column names (token tasks: <c>val_loss</c>, <c>val_acc</c>; regression tasks: <c>val_mse</c>).
    /// </summary>
    public virtual IReadOnlyDictionary<string, object?> SummaryExtras(IReadOnlyList<double> lastEvaluation) =>
        EvalColumns.Zip(lastEvaluation).ToDictionary(p => p.First, p => (object?)p.Second);

    /// <summary>The training loss of the current weights on the whole training data (L(w*) of the LLC).</summary>
    public abstract double TrainLoss();

    /// <summary>The loss of a model that has learned nothing (e.g. ln vocabulary), or null when there is no natural one; LLC calibration measures how far chains climb toward it.</summary>
    public virtual double? ChanceLoss => null;

    /// <summary>The LLC of the current weights with <paramref name="settings"/>; <paramref name="trainLoss"/> is L(w*). The weights are restored afterwards.</summary>
    public abstract LlcResult EstimateLlc(LlcSettings settings, double trainLoss);

    /// <summary>
    /// Up to <paramref name="count"/> held-out inputs of equal length for measurements that read the model on its own
    /// data (the <c>coupling</c> command), each ending at the position whose prediction the task scores; null for
    /// models that do not read tokens.
    /// </summary>
    public virtual IReadOnlyList<int[]>? HeldOutPrompts(int count) => null;

    /// <summary>The scheme the run's model was initialised with (every run draws its model from random stream 0 of its seed).</summary>
    public abstract Initialization ModelInitialization { get; }

    /// <summary>The run's model at step 0 (the same weights it started from), on the CPU: the untrained reference of analyses.</summary>
    public Transformer<float> InitialModel() => new(Model.Config, ModelInitialization, Rng.ForStream(Seed, 0));

    /// <summary>The same for continuous-input models: up to <paramref name="count"/> held-out inputs, each [positions × d_in] row-major; null for token models.</summary>
    public virtual IReadOnlyList<float[]>? HeldOutInputs(int count) => null;

    /// <summary>Copies the weights of a checkpoint into <see cref="Model"/> (on its device); a bad file is a <see cref="CheckpointException"/>.</summary>
    public void LoadWeights(string checkpointPath)
    {
        var (file, config) = ModelCheckpoint.Read(checkpointPath);
        ModelCheckpoint.LoadInto(file, config, Model);
    }
}
