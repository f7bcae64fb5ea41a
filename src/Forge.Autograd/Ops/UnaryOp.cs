using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// y = f(x) elementwise for f in {−x, eˣ, ln x, √x, x², tanh x, relu x, |x|, 1/x}. Backward multiplies
/// the output gradient by the local derivative f'(x) (<see cref="Elementwise.UnaryBackward{T}"/>).
/// </summary>
internal sealed class UnaryOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly UnaryOp _kind;

    UnaryOp(UnaryOp kind, Var<T> x) : base(kind.ToString(), x) => _kind = kind;

    /// <summary>Applies f to a contiguous copy of <paramref name="x"/> if it is a strided view.</summary>
    public static Var<T> Apply(UnaryOp kind, Var<T> x) =>
        new UnaryOp<T>(kind, ContiguousOp<T>.Ensure(x)).Run(x.Shape);

    Var<T> X => Inputs[0];

    public override void Forward() => Backend.Unary(_kind, X.Data, Output.Data);

    // dx += f'(x)·dy, with f' written in terms of x or y (the kernel documents each rule).
    public override void Backward()
    {
        if (NeedsGrad(0))
            Backend.UnaryBackward(_kind, X.Data, Output.Data, Output.Grad, GradToAccumulate(0));
    }
}
