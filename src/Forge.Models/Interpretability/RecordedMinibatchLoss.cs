using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Interpretability;

/// <summary>
/// An <see cref="IMinibatchLoss{T}"/> whose forward pass is recorded once on its own tape and replayed
/// on every draw: <c>drawMinibatch</c> refills the input tensors the recorded graph reads (in place),
/// so a sampler's thousands of steps allocate nothing. The loss must be a one-element value that
/// depends on the parameters, and the graph must not change shape or control flow between draws.
/// </summary>
public sealed class RecordedMinibatchLoss<T> : IMinibatchLoss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Action<Rng> _drawMinibatch;
    readonly Tape<T> _tape = new();
    readonly Var<T> _loss;

    /// <param name="parameters">The parameters whose gradients the sampler reads.</param>
    /// <param name="drawMinibatch">Writes a new minibatch into the tensors <paramref name="recordLoss"/> reads (may ignore the rng: a deterministic loss).</param>
    /// <param name="recordLoss">Builds the loss from those tensors; called once, while this loss's tape records.</param>
    public RecordedMinibatchLoss(IReadOnlyList<Var<T>> parameters, Action<Rng> drawMinibatch, Func<Var<T>> recordLoss)
    {
        (Parameters, _drawMinibatch) = (parameters, drawMinibatch);
        using (_tape.Record()) _loss = recordLoss();
        if (_loss.Data.Length != 1) throw new ShapeException($"RecordedMinibatchLoss: the loss has shape {Shape.Format(_loss.Shape)}, not one element");
    }

    public IReadOnlyList<Var<T>> Parameters { get; }

    public double LossAndGradients(Rng rng)
    {
        _drawMinibatch(rng);
        _tape.Replay();
        double value = double.CreateChecked(_loss.Data.AsSpan()[0]);
        if (!double.IsFinite(value)) return value;   // a diverged sampler stops here; its gradients are no use
        foreach (var parameter in Parameters) parameter.ZeroGrad();
        _tape.Backward(_loss);
        return value;
    }
}
