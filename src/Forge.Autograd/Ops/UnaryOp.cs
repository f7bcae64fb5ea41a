using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// y = f(x) elementwise for f in {−x, eˣ, ln x, √x, x², tanh x, relu x, |x|, 1/x}. Backward multiplies
/// the output gradient by the local derivative f'(x), written in terms of x or y — whichever is cheaper.
/// </summary>
internal sealed class UnaryOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly UnaryOp _kind;
    readonly int[] _flatShape;
    T[]? _derivative;

    UnaryOp(UnaryOp kind, Var<T> x) : base(kind.ToString(), x)
    {
        _kind = kind;
        _flatShape = [x.Data.Length];
    }

    /// <summary>Applies f to a contiguous copy of <paramref name="x"/> if it is a strided view.</summary>
    public static Var<T> Apply(UnaryOp kind, Var<T> x) =>
        new UnaryOp<T>(kind, ContiguousOp<T>.Ensure(x)).Run(new Tensor<T>(x.Shape));

    Var<T> X => Inputs[0];

    public override void Forward() => Elementwise.Unary(_kind, Span(X.Data), Span(Output.Data));

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        var dy = Span(Output.Grad);
        var dx = Span(X.Grad);
        if (_kind == UnaryOp.Neg)
        {
            Elementwise.Axpy<T>(-T.One, dy, dx);
            return;
        }
        var derivative = Scratch(ref _derivative, dy.Length);
        LocalDerivative(derivative);
        // dx += f'(x) · dy
        Elementwise.Binary(BinaryOp.Mul, _flatShape, derivative, 0, UnitStride, Output.Grad.HostArray, 0, UnitStride, derivative);
        Elementwise.Axpy<T>(T.One, derivative, dx);
    }

    /// <summary>Writes f'(x) into <paramref name="d"/>.</summary>
    void LocalDerivative(Span<T> d)
    {
        ReadOnlySpan<T> x = Span(X.Data), y = Span(Output.Data);
        T two = T.CreateChecked(2), half = T.CreateChecked(0.5);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = _kind switch
            {
                UnaryOp.Exp => y[i],                               // (eˣ)' = eˣ = y
                UnaryOp.Log => T.One / x[i],                       // (ln x)' = 1/x
                UnaryOp.Sqrt => half / y[i],                       // (√x)' = 1/(2√x)
                UnaryOp.Square => two * x[i],                      // (x²)' = 2x
                UnaryOp.Tanh => T.One - y[i] * y[i],               // tanh' = 1 − tanh²
                UnaryOp.Relu => x[i] > T.Zero ? T.One : T.Zero,    // subgradient 0 at 0, as PyTorch
                UnaryOp.Abs => T.CreateChecked(T.Sign(x[i])),      // sign(x), 0 at 0
                UnaryOp.Reciprocal => -(y[i] * y[i]),              // (1/x)' = −1/x²
                _ => throw new InvalidOperationException($"UnaryOp: no derivative for {_kind}"),
            };
        }
    }
}
