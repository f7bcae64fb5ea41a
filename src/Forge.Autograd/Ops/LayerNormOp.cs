using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// LayerNorm over the last axis: y = (x − mean)/√(var + ε)·w + b, biased variance (the conventions'
/// definition). One fused kernel each way; mean and 1/σ are saved for backward.
/// </summary>
internal sealed class LayerNormOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _rows, _d;
    readonly T _eps;
    readonly Tensor<T> _mean, _rstd;
    readonly Tensor<T>? _neededRows;   // rows whose entry is 0 are not read (the CPU skips them)

    LayerNormOp(Var<T> x, Var<T> w, Var<T> b, T eps, Tensor<T>? neededRows) : base("LayerNorm", x, w, b)
    {
        (_rows, _d, _eps, _neededRows) = (Rows(x.ShapeSpan), x.Size(-1), eps, neededRows);
        _mean = NewTensor([_rows]);
        _rstd = NewTensor([_rows]);
    }

    public static Var<T> Apply(Var<T> x, Var<T> w, Var<T> b, T eps, Tensor<T>? neededRows = null)
    {
        NeededRows.Check("LayerNorm", x, neededRows);
        int d = x.Size(-1);
        if (w.Rank != 1 || w.Size(0) != d || b.Rank != 1 || b.Size(0) != d)
            throw new ShapeException("LayerNorm", "weight and bias must be [d] for input [..., d]", x.Shape, w.Shape, b.Shape);
        return new LayerNormOp<T>(ContiguousOp<T>.Ensure(x), ContiguousOp<T>.Ensure(w), ContiguousOp<T>.Ensure(b), eps, neededRows).Run(x.Shape);
    }

    Var<T> X => Inputs[0];
    Var<T> W => Inputs[1];
    Var<T> B => Inputs[2];

    public override void Forward()
    {
        if (_neededRows is null) Backend.LayerNormForward(X.Data, W.Data, B.Data, Output.Data, _mean, _rstd, _rows, _d, _eps);
        else Backend.LayerNormForwardOnRows(X.Data, W.Data, B.Data, Output.Data, _mean, _rstd, _rows, _d, _eps, _neededRows);
    }

    // The kernel accumulates into all three gradients; buffers of inputs that need none are simply unused.
    public override void Backward() =>
        Backend.LayerNormBackward(Output.Grad, X.Data, W.Data, _mean, _rstd, X.Grad, GradToAccumulate(1), GradToAccumulate(2), _rows, _d,
            accumulateDx: !OverwritesGrad(0));
}
