using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Fused causal multi-head attention: z = softmax(mask(q·kᵀ/√d_head))·v for q, k, v in
/// [batch, pos, head, d_head] (TransformerLens's hook_q/k/v layout). The scores and pattern are kept
/// (<see cref="Scores"/>, <see cref="Pattern"/>: [batch, head, query_pos, key_pos]) for hooks and for
/// backward. The step-by-step derivation is the teaching text of the plain-loop reference, <see cref="Kernels.AttentionReference"/>.
/// </summary>
internal sealed class AttentionOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _batch, _t, _heads, _dHead;
    readonly T _scale;
    Tensor<T>? _dPattern, _dScores;
    readonly int[] _squares;

    AttentionOp(Var<T> q, Var<T> k, Var<T> v) : base("Attention", q, k, v)
    {
        (_batch, _t, _heads, _dHead) = (q.Size(0), q.Size(1), q.Size(2), q.Size(3));
        _scale = T.One / T.Sqrt(T.CreateChecked(_dHead));
        _squares = [_batch, _heads, _t, _t];
        Scores = NewTensor(_squares);
        Pattern = NewTensor(_squares);
    }

    public Tensor<T> Scores { get; }
    public Tensor<T> Pattern { get; }

    public static AttentionOp<T> Create(Var<T> q, Var<T> k, Var<T> v)
    {
        if (q.Rank != 4 || !Forge.Shape.SameShape(q.ShapeSpan, k.ShapeSpan) || !Forge.Shape.SameShape(q.ShapeSpan, v.ShapeSpan))
            throw new ShapeException("Attention", "q, k, v must all be [batch, pos, head, d_head]", q.Shape, k.Shape, v.Shape);
        var op = new AttentionOp<T>(ContiguousOp<T>.Ensure(q), ContiguousOp<T>.Ensure(k), ContiguousOp<T>.Ensure(v));
        op.Run(q.Shape);
        return op;
    }

    public override void Forward() =>
        Backend.AttentionForward(Inputs[0].Data, Inputs[1].Data, Inputs[2].Data,
            Scores, Pattern, Output.Data, _batch, _t, _heads, _dHead, _scale);

    public override void Backward()
    {
        // The kernel writes dv, then dq, then dk (per (batch, head) pair): ask in that order, so that if one
        // Var is passed twice (q = v, say), the first write overwrites and the second adds.
        bool overwriteDv = OverwritesGrad(2), overwriteDq = OverwritesGrad(0), overwriteDk = OverwritesGrad(1);
        Backend.AttentionBackward(Output.Grad, Inputs[0].Data, Inputs[1].Data, Inputs[2].Data,
            Pattern, Scratch(ref _dPattern, _squares, Device), Scratch(ref _dScores, _squares, Device),
            Inputs[0].Grad, Inputs[1].Grad, Inputs[2].Grad, _batch, _t, _heads, _dHead, _scale,
            accumulateDq: !overwriteDq, accumulateDk: !overwriteDk, accumulateDv: !overwriteDv);
    }
}
