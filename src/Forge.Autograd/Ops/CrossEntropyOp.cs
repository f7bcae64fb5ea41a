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
    readonly T[] _probs, _rowLoss;

    CrossEntropyOp(Var<T> logits, Tensor<int> targets, Tensor<T>? mask) : base("CrossEntropy", logits)
    {
        (_targets, _mask) = (targets, mask);
        (_rows, _vocab) = (Rows(logits.ShapeSpan), logits.Size(-1));
        _probs = new T[_rows * _vocab];
        _rowLoss = new T[_rows];
    }

    public static Var<T> Apply(Var<T> logits, Tensor<int> targets, Tensor<T>? mask)
    {
        if (logits.Rank < 1 || !Forge.Shape.SameShape(logits.ShapeSpan[..^1], targets.ShapeSpan))
            throw new ShapeException("CrossEntropy", "targets must have the logits' shape without the vocab axis", logits.Shape, targets.Shape);
        if (mask is not null && !Forge.Shape.SameShape(mask.ShapeSpan, targets.ShapeSpan))
            throw new ShapeException("CrossEntropy", "mask must have the targets' shape", targets.Shape, mask.Shape);
        return new CrossEntropyOp<T>(ContiguousOp<T>.Ensure(logits), targets.Contiguous(), mask?.Contiguous()).Run(new Tensor<T>([]));
    }

    /// <summary>Per-row losses of the last forward (unweighted), e.g. for per-position metrics.</summary>
    public ReadOnlySpan<T> RowLoss => _rowLoss;

    /// <summary>Softmax probabilities of the last forward, (rows, vocab).</summary>
    public ReadOnlySpan<T> Probabilities => _probs;

    ReadOnlySpan<T> Mask => _mask is null ? default : _mask.AsSpan();

    public override void Forward() =>
        Span(Output.Data)[0] = CrossEntropy.Forward(Span(Inputs[0].Data), _targets.AsSpan(), Mask, _probs, _rowLoss, _rows, _vocab);

    public override void Backward()
    {
        if (NeedsGrad(0)) CrossEntropy.Backward(_probs, _targets.AsSpan(), Mask, Span(Output.Grad)[0], Span(Inputs[0].Grad), _rows, _vocab);
    }
}
