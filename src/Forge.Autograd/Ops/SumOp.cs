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
    Tensor<T>? _expanded;

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
        return new SumOp<T>(ContiguousOp<T>.Ensure(x), axis, mean).Run(outShape);
    }

    /// <summary>Sum (or mean) of all elements, as a scalar of shape [].</summary>
    public static Var<T> All(Var<T> x, bool mean) => Apply(ViewOp<T>.Reshape(x, [x.Data.Length]), 0, keepDim: false, mean);

    public override void Forward()
    {
        var y = Output.Data;
        Backend.Sum(Inputs[0].Data, _outer, _axis, _inner, y);
        if (_mean) Backend.Scale(y, T.One / T.CreateChecked(_axis), y);
    }

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        var expanded = Scratch(ref _expanded, _expandedShape, Device);
        Backend.Copy(_expandedShape, Output.Grad, _broadcastStrides, expanded);
        T scale = _mean ? T.One / T.CreateChecked(_axis) : T.One;
        Backend.Axpy(scale, expanded, GradToAccumulate(0));
    }
}

/// <summary>
/// Maximum along one axis. Backward routes each output gradient to the element that won
/// (the first one, on ties), like torch.max(dim).
/// </summary>
internal sealed class MaxOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _outer, _axis, _inner;
    readonly Tensor<int> _argmax;

    MaxOp(Var<T> x, int axis) : base("Max", x)
    {
        var shape = x.ShapeSpan;
        (_outer, _axis, _inner) = (Forge.Shape.Count(shape[..axis]), shape[axis], Forge.Shape.Count(shape[(axis + 1)..]));
        _argmax = new Tensor<int>([_outer * _inner], Device);
    }

    public static Var<T> Apply(Var<T> x, int axis, bool keepDim)
    {
        axis = Forge.Shape.NormalizeAxis("Max", axis, x.Rank);
        var shape = x.Shape;
        shape[axis] = 1;
        int[] outShape = keepDim ? shape : [.. shape[..axis], .. shape[(axis + 1)..]];
        return new MaxOp<T>(ContiguousOp<T>.Ensure(x), axis).Run(outShape);
    }

    public override void Forward() => Backend.Max(Inputs[0].Data, _outer, _axis, _inner, Output.Data, _argmax);

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.MaxBackward(Output.Grad, _argmax, _outer, _axis, _inner, GradToAccumulate(0));
    }
}
