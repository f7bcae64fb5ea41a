using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Copies a strided view into a contiguous buffer (ops whose kernels want row-major input call
/// <see cref="Ensure"/>). The copy is an identity on values, so the gradient passes straight through:
/// the input's gradient is always stored contiguous in its logical shape, exactly like the output's.
/// </summary>
internal sealed class ContiguousOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int[] _shape, _strides;

    ContiguousOp(Var<T> x) : base("Contiguous", x) => (_shape, _strides) = (x.Data.Shape, x.Data.Strides);

    /// <summary><paramref name="x"/> itself if its data is contiguous, else a recorded contiguous copy.</summary>
    public static Var<T> Ensure(Var<T> x) => x.Data.IsContiguous ? x : new ContiguousOp<T>(x).Run(x.Shape);

    public override void Forward()
    {
        Backend.Copy(_shape, Inputs[0].Data, _strides, Output.Data);
    }

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        var dy = Output.Grad;   // contiguous, like the input's gradient
        if (OverwritesGrad(0)) Backend.Copy(dy.ShapeSpan, dy, dy.StridesSpan, Inputs[0].Grad);   // first contribution: dx = dy
        else Backend.Axpy(T.One, dy, Inputs[0].Grad);
    }
}
