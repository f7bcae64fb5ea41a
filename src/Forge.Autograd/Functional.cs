using System.Numerics;
using Forge.Autograd.Ops;

namespace Forge.Autograd;

/// <summary>Differentiable operations with more than one output or no natural receiver.</summary>
public static class Functional
{
    /// <summary>
    /// Fused causal self-attention of q, k, v [batch, pos, head, d_head] (scale 1/√d_head). Returns z
    /// [batch, pos, head, d_head] together with the attention scores and pattern
    /// [batch, head, query_pos, key_pos] (refreshed on every replay).
    /// </summary>
    public static (Var<T> Z, Tensor<T> Scores, Tensor<T> Pattern) CausalAttention<T>(Var<T> q, Var<T> k, Var<T> v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var op = AttentionOp<T>.Create(q, k, v);
        return (op.Output, op.Scores, op.Pattern);
    }

    /// <summary>Mean squared error over all elements: mean((prediction − target)²).</summary>
    public static Var<T> MseLoss<T>(Var<T> prediction, Var<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Forge.Shape.SameShape(prediction.ShapeSpan, target.ShapeSpan))
            throw new ShapeException("MseLoss", "prediction and target shapes differ", prediction.Shape, target.Shape);
        return (prediction - target).Square().Mean();
    }
}
