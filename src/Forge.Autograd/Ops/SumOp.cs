using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Sum or mean along one axis. The input is viewed as (outer, axis, inner); the output is
/// (outer, inner), with the reduced axis kept as size 1 when asked. Backward: every input element
/// contributed once (sum) or 1/axis times (mean) to its output, so dx[o, a, i] += scale·dy[o, i].
/// </summary>
internal sealed class SumOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _outer, _axis, _inner;
    readonly bool _mean;
    readonly int[] _expandedShape, _broadcastStrides;
    T[]? _expanded;

    SumOp(Var<T> x, int axis, bool mean) : base(mean ? "Mean" : "Sum", x)
    {
        var shape = x.ShapeSpan;
        _outer = Forge.Shape.Count(shape[..axis]);
        _axis = shape[axis];
        _inner = Forge.Shape.Count(shape[(axis + 1)..]);
        _mean = mean;
        _expandedShape = [_outer, _axis, _inner];
        _broadcastStrides = [_inner, 0, 1];
    }

    public static Var<T> Apply(Var<T> x, int axis, bool keepDim, bool mean)
    {
        axis = Forge.Shape.NormalizeAxis(mean ? "Mean" : "Sum", axis, x.Rank);
        var shape = x.Shape;
        shape[axis] = 1;
        int[] outShape = keepDim ? shape : [.. shape[..axis], .. shape[(axis + 1)..]];
        return new SumOp<T>(ContiguousOp<T>.Ensure(x), axis, mean).Run(new Tensor<T>(outShape));
    }

    /// <summary>Sum (or mean) of all elements, as a scalar of shape [].</summary>
    public static Var<T> All(Var<T> x, bool mean) => Apply(ViewOp<T>.Reshape(x, [x.Data.Length]), 0, keepDim: false, mean);

    public override void Forward()
    {
        var y = Span(Output.Data);
        Reduce.Sum(Span(Inputs[0].Data), _outer, _axis, _inner, y);
        if (_mean) Elementwise.Scale<T>(y, T.One / T.CreateChecked(_axis), y);
    }

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        var expanded = Scratch(ref _expanded, _outer * _axis * _inner);
        Elementwise.Copy(_expandedShape, Output.Grad.HostArray, 0, _broadcastStrides, expanded);
        T scale = _mean ? T.One / T.CreateChecked(_axis) : T.One;
        Elementwise.Axpy<T>(scale, expanded, Span(Inputs[0].Grad));
    }
}

/// <summary>
/// Maximum along one axis. Backward routes each output gradient to the element that won
/// (the first one, on ties), like torch.max(dim).
/// </summary>
internal sealed class MaxOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _outer, _axis, _inner;
    readonly int[] _argmax;

    MaxOp(Var<T> x, int axis) : base("Max", x)
    {
        var shape = x.ShapeSpan;
        (_outer, _axis, _inner) = (Forge.Shape.Count(shape[..axis]), shape[axis], Forge.Shape.Count(shape[(axis + 1)..]));
        _argmax = new int[_outer * _inner];
    }

    public static Var<T> Apply(Var<T> x, int axis, bool keepDim)
    {
        axis = Forge.Shape.NormalizeAxis("Max", axis, x.Rank);
        var shape = x.Shape;
        shape[axis] = 1;
        int[] outShape = keepDim ? shape : [.. shape[..axis], .. shape[(axis + 1)..]];
        return new MaxOp<T>(ContiguousOp<T>.Ensure(x), axis).Run(new Tensor<T>(outShape));
    }

    public override void Forward() => Reduce.Max(Span(Inputs[0].Data), _outer, _axis, _inner, Span(Output.Data), _argmax);

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        var dy = Span(Output.Grad);
        var dx = Span(Inputs[0].Grad);
        for (int o = 0; o < _outer; o++)
            for (int i = 0; i < _inner; i++)
            {
                int flat = o * _inner + i;
                dx[(o * _axis + _argmax[flat]) * _inner + i] += dy[flat];
            }
    }
}
