using System.Numerics;
using Forge.Autograd;
using Forge.Autograd.Optim;

namespace Forge.Models.Training;

/// <summary>
/// One optimizer step of a model, as a function of the step number: <see cref="Step"/> fills the
/// batch of that step, computes the loss and its gradients, clips them if asked, sets the scheduled
/// learning rate and updates the parameters. The first step records forward and backward on a tape
/// (one per micro-batch, <see cref="MicroBatchGradient{T}"/>); every later step refills the same batch
/// buffers and replays it, so a step allocates nothing.
/// The loop around it (evaluation, metrics, checkpoints, progress) belongs to the caller.
/// </summary>
public sealed class Trainer<T, TBatch> where T : unmanaged, IFloatingPointIeee754<T> where TBatch : IDeviceBatch
{
    readonly Optimizer<T> _optimizer;
    readonly LearningRateSchedule _schedule;
    readonly IBatchSource<TBatch> _source;
    readonly TBatch _batch;
    readonly MicroBatchGradient<T> _gradient;

    /// <param name="loss">Builds the scalar loss of a batch from the model (called once, then replayed).</param>
    public Trainer(Optimizer<T> optimizer, LearningRateSchedule schedule, IBatchSource<TBatch> source, TBatch batch, Func<TBatch, Var<T>> loss)
        : this(optimizer, schedule, source, batch, MicroBatchGradient<T>.Whole(optimizer.Parameters, () => loss(batch))) { }

    /// <param name="gradient">Computes the loss and gradient of <paramref name="batch"/> into the optimizer's parameters, whole or in micro-batches (<see cref="MicroBatches"/>).</param>
    public Trainer(Optimizer<T> optimizer, LearningRateSchedule schedule, IBatchSource<TBatch> source, TBatch batch, MicroBatchGradient<T> gradient)
        => (_optimizer, _schedule, _source, _batch, _gradient) = (optimizer, schedule, source, batch, gradient);

    /// <summary>Clip the global gradient norm to this value (0 = no clipping).</summary>
    public double ClipNorm { get; init; }

    /// <summary>The learning rate of the latest step.</summary>
    public double LearningRate { get; private set; } = double.NaN;

    /// <summary>
    /// Optimizer step <paramref name="step"/> (0-based); returns the loss of its batch, before the update.
    /// A NaN or infinite loss throws <see cref="TrainingDivergedException"/> before anything is updated.
    /// </summary>
    public double Step(int step)
    {
        _source.Fill(step, _batch);
        _batch.Upload();
        // A non-finite loss stops the step before the update (with one part, before the backward pass).
        if (!_gradient.TryLossAndGradient(out double loss)) throw new TrainingDivergedException(step, loss);
        if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(_optimizer.Parameters, ClipNorm);
        LearningRate = _schedule.At(step);
        _optimizer.LearningRate = LearningRate;
        _optimizer.Step();
        return loss;
    }
}
