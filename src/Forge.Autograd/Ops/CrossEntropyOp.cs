using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Mean cross-entropy of logits [..., vocab] against integer targets [...], optionally weighted by a
/// mask [...] (1 where a position counts): loss = Σᵢ maskᵢ·(−log softmax(logitsᵢ)[targetᵢ]) / Σᵢ maskᵢ.
/// Fused with the log-softmax: backward is dlogitsᵢ += dLoss·maskᵢ/Σmask·(pᵢ − onehot(targetᵢ)).
/// Targets and mask are read on every replay.
/// </summary>
internal sealed class CrossEntropyOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Tensor<int> _targets;
    readonly Tensor<T>? _mask;
    readonly int _rows, _vocab;
    readonly Tensor<T> _probs, _rowLoss;

    CrossEntropyOp(Var<T> logits, Tensor<int> targets, Tensor<T>? mask) : base("CrossEntropy", logits)
    {
        (_targets, _mask) = (targets, mask);
        (_rows, _vocab) = (Rows(logits.ShapeSpan), logits.Size(-1));
        _probs = NewTensor([_rows, _vocab]);
        _rowLoss = NewTensor([_rows]);
    }

    public static Var<T> Apply(Var<T> logits, Tensor<int> targets, Tensor<T>? mask)
    {
        if (logits.Rank < 1 || !Forge.Shape.SameShape(logits.ShapeSpan[..^1], targets.ShapeSpan))
            throw new ShapeException("CrossEntropy", "targets must have the logits' shape without the vocab axis", logits.Shape, targets.Shape);
        if (mask is not null && !Forge.Shape.SameShape(mask.ShapeSpan, targets.ShapeSpan))
            throw new ShapeException("CrossEntropy", "mask must have the targets' shape", targets.Shape, mask.Shape);
        if (targets.Device != logits.Data.Device || (mask is not null && mask.Device != logits.Data.Device))
            throw new InvalidOperationException($"CrossEntropy: targets and mask must live with the logits on '{logits.Data.Device.Name}'");
        return new CrossEntropyOp<T>(ContiguousOp<T>.Ensure(logits), targets.Contiguous(), mask?.Contiguous()).Run(Array.Empty<int>());
    }

    /// <summary>Per-row losses of the last forward (unweighted), e.g. for per-position metrics; on the op's device.</summary>
    public Tensor<T> RowLoss => _rowLoss;

    /// <summary>Softmax probabilities of the last forward, (rows, vocab), on the op's device.</summary>
    public Tensor<T> Probabilities => _probs;

    public override void Forward() =>
        Backend.CrossEntropyForward(Inputs[0].Data, _targets, _mask, _probs, _rowLoss, Output.Data, _rows, _vocab);

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.CrossEntropyBackward(_probs, _targets, _mask, Output.Grad, Inputs[0].Grad, _rows, _vocab, accumulate: !OverwritesGrad(0));
    }
}
