using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>y = α·x + β for constants α, β (scaling, shifting, negation by constants).</summary>
internal sealed class ScaleOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly T _alpha, _beta;

    ScaleOp(Var<T> x, T alpha, T beta) : base("Scale", x) => (_alpha, _beta) = (alpha, beta);

    public static Var<T> Apply(Var<T> x, T alpha, T beta) =>
        new ScaleOp<T>(ContiguousOp<T>.Ensure(x), alpha, beta).Run(x.Shape);

    public override void Forward()
    {
        var y = Output.Data;
        if (_beta == T.Zero) Backend.Scale(Inputs[0].Data, _alpha, y);
        else
        {
            Backend.Fill(y, _beta);                         // y = β
            Backend.Axpy(_alpha, Inputs[0].Data, y);        // y += α·x
        }
    }

    // y = α·x + β  ⇒  dx += α·dy
    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        if (OverwritesGrad(0)) Backend.Scale(Output.Grad, _alpha, Inputs[0].Grad);   // first contribution: dx = α·dy
        else Backend.Axpy(_alpha, Output.Grad, Inputs[0].Grad);
    }
}
