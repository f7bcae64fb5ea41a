using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// a ∘ b for ∘ in {+, −, ×, ÷} with NumPy broadcasting. The kernel reads both operands through
/// broadcast strides (stride 0 along repeated axes), so nothing is expanded in memory. The gradient
/// of broadcasting is a sum: each operand's gradient is the output gradient reduced over the axes it
/// was repeated along.
/// </summary>
internal sealed class BinaryOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly BinaryOp _kind;
    readonly int[] _shape, _aStrides, _bStrides, _outStrides;
    T[]? _scratch;

    BinaryOp(BinaryOp kind, Var<T> a, Var<T> b, int[] shape) : base(kind.ToString(), a, b)
    {
        _kind = kind;
        _shape = shape;
        _aStrides = Shape.BroadcastStrides(a.Data.Shape, a.Data.Strides, shape);
        _bStrides = Shape.BroadcastStrides(b.Data.Shape, b.Data.Strides, shape);
        _outStrides = Shape.ContiguousStrides(shape);
    }

    public static Var<T> Apply(BinaryOp kind, Var<T> a, Var<T> b)
    {
        if (kind is not (BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div))
            throw new ArgumentException($"{kind}: only +, −, ×, ÷ are differentiable binary ops");
        var shape = Shape.Broadcast(kind.ToString(), a.Shape, b.Shape);
        return new BinaryOp<T>(kind, a, b, shape).Run(new Tensor<T>(shape));
    }

    Var<T> A => Inputs[0];
    Var<T> B => Inputs[1];

    public override void Forward() =>
        Elementwise.Binary(_kind, _shape, A.Data.HostArray, A.Data.Offset, _aStrides,
            B.Data.HostArray, B.Data.Offset, _bStrides, Span(Output.Data));

    public override void Backward()
    {
        var dOut = Span(Output.Grad);
        if (NeedsGrad(0)) AccumulateA(dOut);
        if (NeedsGrad(1)) AccumulateB(dOut);
    }

    // out = a + b, a − b:  da += dOut.   out = a·b: da += dOut·b.   out = a/b: da += dOut/b.
    void AccumulateA(Span<T> dOut)
    {
        if (_kind is BinaryOp.Add or BinaryOp.Sub)
        {
            Elementwise.ReduceBroadcast(_shape, dOut, A.ShapeSpan, Span(A.Grad));
            return;
        }
        var scratch = Scratch(ref _scratch, dOut.Length);
        Elementwise.Binary(_kind, _shape, Output.Grad.HostArray, 0, _outStrides, B.Data.HostArray, B.Data.Offset, _bStrides, scratch);
        Elementwise.ReduceBroadcast(_shape, scratch, A.ShapeSpan, Span(A.Grad));
    }

    // out = a + b: db += dOut.   a − b: db −= dOut.   a·b: db += dOut·a.   a/b: db −= dOut·out/b.
    void AccumulateB(Span<T> dOut)
    {
        if (_kind == BinaryOp.Add)
        {
            Elementwise.ReduceBroadcast(_shape, dOut, B.ShapeSpan, Span(B.Grad));
            return;
        }
        var scratch = Scratch(ref _scratch, dOut.Length);
        switch (_kind)
        {
            case BinaryOp.Sub:
                Elementwise.Scale<T>(dOut, -T.One, scratch);
                break;
            case BinaryOp.Mul:
                Elementwise.Binary(BinaryOp.Mul, _shape, Output.Grad.HostArray, 0, _outStrides, A.Data.HostArray, A.Data.Offset, _aStrides, scratch);
                break;
            case BinaryOp.Div:
                Elementwise.Binary(BinaryOp.Div, _shape, Output.Data.HostArray, 0, _outStrides, B.Data.HostArray, B.Data.Offset, _bStrides, scratch);
                Elementwise.Binary(BinaryOp.Mul, _shape, scratch, 0, _outStrides, Output.Grad.HostArray, 0, _outStrides, scratch);
                Elementwise.Scale<T>(scratch, -T.One, scratch);
                break;
        }
        Elementwise.ReduceBroadcast(_shape, scratch, B.ShapeSpan, Span(B.Grad));
    }
}
