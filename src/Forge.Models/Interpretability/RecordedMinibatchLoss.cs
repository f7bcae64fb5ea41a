using System.Numerics;
using Forge.Autograd;
using Forge.Models.Training;

namespace Forge.Models.Interpretability;

/// <summary>
/// An <see cref="IMinibatchLoss{T}"/> whose forward pass is recorded once on its own tape and replayed
/// on every draw: <c>drawMinibatch</c> refills the input tensors the recorded graph reads (in place),
/// so a sampler's thousands of steps allocate nothing. The loss must be a one-element value that
/// depends on the parameters, and the graph must not change shape or control flow between draws.
/// The minibatch may be cut into micro-batches (<see cref="MicroBatchGradient{T}"/>), computed on lanes with a tape each.
/// </summary>
public sealed class RecordedMinibatchLoss<T> : IMinibatchLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Action<Rng> _drawMinibatch;
    readonly MicroBatchGradient<T> _gradient;

    /// <param name="parameters">The parameters whose gradients the sampler reads.</param>
    /// <param name="drawMinibatch">Writes a new minibatch into the tensors <paramref name="recordLoss"/> reads (may ignore the rng: a deterministic loss).</param>
    /// <param name="recordLoss">Builds the loss from those tensors; called once, while this loss's tape records.</param>
    public RecordedMinibatchLoss(IReadOnlyList<Var<T>> parameters, Action<Rng> drawMinibatch, Func<Var<T>> recordLoss)
        : this(parameters, drawMinibatch, MicroBatchGradient<T>.Whole(parameters, recordLoss)) { }

    /// <param name="parameters">The parameters whose gradients the sampler reads (those <paramref name="gradient"/> writes).</param>
    /// <param name="drawMinibatch">Writes a new minibatch into the tensors <paramref name="gradient"/>'s micro-batches read.</param>
    /// <param name="gradient">The minibatch's loss and gradient; its tapes record here, once.</param>
    public RecordedMinibatchLoss(IReadOnlyList<Var<T>> parameters, Action<Rng> drawMinibatch, MicroBatchGradient<T> gradient)
    {
        (Parameters, _drawMinibatch, _gradient) = (parameters, drawMinibatch, gradient);
        gradient.Record();   // on whatever the input tensors hold now; throws if the loss is not one element
    }

    public IReadOnlyList<Var<T>> Parameters { get; }

    public double LossAndGradients(Rng rng)
    {
        _drawMinibatch(rng);
        _gradient.TryLossAndGradient(out double value);   // a non-finite loss: the sampler stops there, its gradients are no use
        return value;
    }
}
