using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Fused causal multi-head attention: z = softmax(mask(q·kᵀ/√d_head))·v for q, k, v in
/// [batch, pos, head, d_head] (TransformerLens's hook_q/k/v layout). The scores and pattern are kept
/// (<see cref="Scores"/>, <see cref="Pattern"/>: [batch, head, query_pos, key_pos]) for hooks and for
/// backward. The step-by-step derivation lives in the kernel, <see cref="Kernels.Attention"/>.
/// </summary>
internal sealed class AttentionOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _batch, _t, _heads, _dHead;
    readonly T _scale;
    T[]? _dPattern, _dScores;

    AttentionOp(Var<T> q, Var<T> k, Var<T> v) : base("Attention", q, k, v)
    {
        (_batch, _t, _heads, _dHead) = (q.Size(0), q.Size(1), q.Size(2), q.Size(3));
        _scale = T.One / T.Sqrt(T.CreateChecked(_dHead));
        Scores = new Tensor<T>([_batch, _heads, _t, _t]);
        Pattern = new Tensor<T>([_batch, _heads, _t, _t]);
    }

    public Tensor<T> Scores { get; }
    public Tensor<T> Pattern { get; }

    public static AttentionOp<T> Create(Var<T> q, Var<T> k, Var<T> v)
    {
        if (q.Rank != 4 || !Forge.Shape.SameShape(q.ShapeSpan, k.ShapeSpan) || !Forge.Shape.SameShape(q.ShapeSpan, v.ShapeSpan))
            throw new ShapeException("Attention", "q, k, v must all be [batch, pos, head, d_head]", q.Shape, k.Shape, v.Shape);
        var op = new AttentionOp<T>(ContiguousOp<T>.Ensure(q), ContiguousOp<T>.Ensure(k), ContiguousOp<T>.Ensure(v));
        op.Run(new Tensor<T>(q.Shape));
        return op;
    }

    public override void Forward() =>
        Attention.Forward(Span(Inputs[0].Data), Span(Inputs[1].Data), Span(Inputs[2].Data),
            Span(Scores), Span(Pattern), Span(Output.Data), _batch, _t, _heads, _dHead, _scale);

    public override void Backward()
    {
        int patternLength = Pattern.Length;
        Attention.Backward(Span(Output.Grad), Span(Inputs[0].Data), Span(Inputs[1].Data), Span(Inputs[2].Data),
            Span(Pattern), Scratch(ref _dPattern, patternLength), Scratch(ref _dScores, patternLength),
            Span(Inputs[0].Grad), Span(Inputs[1].Grad), Span(Inputs[2].Grad), _batch, _t, _heads, _dHead, _scale);
    }
}
