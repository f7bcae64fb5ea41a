using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Softmax over the last axis; with <c>causal</c> the input is [..., t, t] attention scores and row i
/// only sees columns ≤ i (the rest come out exactly 0). Backward: dx = y ⊙ (dy − Σⱼ dyⱼ·yⱼ) — masked
/// entries have y = 0 and so get no gradient.
/// </summary>
internal sealed class SoftmaxOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _rows, _cols;
    readonly bool _causal;

    SoftmaxOp(Var<T> x, bool causal) : base(causal ? "CausalSoftmax" : "Softmax", x)
    {
        (_rows, _cols, _causal) = (Rows(x.ShapeSpan), x.Size(-1), causal);
    }

    public static Var<T> Apply(Var<T> x, bool causal)
    {
        if (causal && (x.Rank < 2 || x.Size(-1) != x.Size(-2)))
            throw new ShapeException("CausalSoftmax", "needs square [..., t, t] scores", x.Shape);
        return new SoftmaxOp<T>(ContiguousOp<T>.Ensure(x), causal).Run(x.Shape);
    }

    public override void Forward()
    {
        if (_causal) Backend.SoftmaxForwardCausal(Inputs[0].Data, Output.Data, _rows / _cols, _cols);
        else Backend.SoftmaxForward(Inputs[0].Data, Output.Data, _rows, _cols);
    }

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.SoftmaxBackward(Output.Data, Output.Grad, GradToAccumulate(0), _rows, _cols);
    }
}
