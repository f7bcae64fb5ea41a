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
    Tensor<T>? _scratch;

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
        return new BinaryOp<T>(kind, a, b, shape).Run(shape);
    }

    Var<T> A => Inputs[0];
    Var<T> B => Inputs[1];

    public override void Forward() =>
        Backend.Binary(_kind, _shape, A.Data, _aStrides, B.Data, _bStrides, Output.Data);

    // out = a + b passes dOut to both addends unchanged, a − b to a: on a sealed tape, an addend of the same shape that
    // nothing else reads shares the sum's gradient buffer (Tape.Seal) and gets no copy.
    protected internal override bool PassesGradientThrough(int index) =>
        _kind == BinaryOp.Add || (_kind == BinaryOp.Sub && index == 0);

    public override void Backward()
    {
        var dOut = Output.Grad;
        if (NeedsGrad(0) && !SharesOutputGrad(0)) AccumulateA(dOut);
        if (NeedsGrad(1) && !SharesOutputGrad(1)) AccumulateB(dOut);
    }

    // out = a + b, a − b:  da += dOut.   out = a·b: da += dOut·b.   out = a/b: da += dOut/b.
    // The first contribution to a gradient of the full shape is written directly (no zeroing, no scratch).
    void AccumulateA(Tensor<T> dOut)
    {
        bool direct = Shape.SameShape(A.ShapeSpan, _shape) && OverwritesGrad(0);
        if (_kind is BinaryOp.Add or BinaryOp.Sub)
        {
            if (direct) Backend.Copy(_shape, dOut, _outStrides, A.Grad);
            else Backend.ReduceBroadcast(_shape, dOut, A.ShapeSpan, GradToAccumulate(0));
            return;
        }
        if (direct)
        {
            Backend.Binary(_kind, _shape, dOut, _outStrides, B.Data, _bStrides, A.Grad);
            return;
        }
        var scratch = Scratch(ref _scratch, _shape, Device);
        Backend.Binary(_kind, _shape, dOut, _outStrides, B.Data, _bStrides, scratch);
        Backend.ReduceBroadcast(_shape, scratch, A.ShapeSpan, GradToAccumulate(0));
    }

    // out = a + b: db += dOut.   a − b: db −= dOut.   a·b: db += dOut·a.   a/b: db −= dOut·out/b.
    void AccumulateB(Tensor<T> dOut)
    {
        if (_kind == BinaryOp.Add)
        {
            if (Shape.SameShape(B.ShapeSpan, _shape) && OverwritesGrad(1)) Backend.Copy(_shape, dOut, _outStrides, B.Grad);
            else Backend.ReduceBroadcast(_shape, dOut, B.ShapeSpan, GradToAccumulate(1));
            return;
        }
        var scratch = Scratch(ref _scratch, _shape, Device);
        switch (_kind)
        {
            case BinaryOp.Sub:
                Backend.Scale(dOut, -T.One, scratch);
                break;
            case BinaryOp.Mul:
                Backend.Binary(BinaryOp.Mul, _shape, dOut, _outStrides, A.Data, _aStrides, scratch);
                break;
            case BinaryOp.Div:
                Backend.Binary(BinaryOp.Div, _shape, Output.Data, _outStrides, B.Data, _bStrides, scratch);
                Backend.Binary(BinaryOp.Mul, _shape, scratch, _outStrides, dOut, _outStrides, scratch);
                Backend.Scale(scratch, -T.One, scratch);
                break;
        }
        Backend.ReduceBroadcast(_shape, scratch, B.ShapeSpan, GradToAccumulate(1));
    }
}
