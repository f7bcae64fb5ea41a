namespace Forge;

// Views: new shapes and strides over the same storage. Nothing here copies data, except Reshape of a
// layout that cannot be viewed (it falls back to a contiguous copy, as torch.reshape does).
public sealed partial class Tensor<T>
{
    /// <summary>Same elements in a new shape; one dimension may be −1 (inferred).</summary>
    public Tensor<T> Reshape(params int[] shape)
    {
        var resolved = ResolveReshape(shape);
        if (!IsContiguous) return Contiguous().Reshape(resolved);
        return new Tensor<T>(Storage, resolved, Forge.Shape.ContiguousStrides(resolved), Offset);
    }

    int[] ResolveReshape(int[] shape)
    {
        var resolved = (int[])shape.Clone();
        int inferred = Array.IndexOf(resolved, -1);
        if (inferred >= 0)
        {
            int known = 1;
            for (int i = 0; i < resolved.Length; i++) if (i != inferred) known *= resolved[i];
            if (known == 0 || Length % known != 0) throw new ShapeException("Reshape", "cannot infer the −1 dimension", _shape, shape);
            resolved[inferred] = Length / known;
        }
        if (Forge.Shape.Count(resolved) != Length) throw new ShapeException("Reshape", "element counts differ", _shape, shape);
        return resolved;
    }

    /// <summary>Reorders axes: result axis i is this tensor's axis <c>order[i]</c> (torch.permute).</summary>
    public Tensor<T> Permute(params int[] order)
    {
        if (order.Length != Rank) throw new ShapeException($"Permute: order {Forge.Shape.Format(order)} does not match shape {Forge.Shape.Format(_shape)}");
        var seen = new bool[Rank];
        var shape = new int[Rank];
        var strides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int axis = Forge.Shape.NormalizeAxis("Permute", order[i], Rank);
            if (seen[axis]) throw new ShapeException($"Permute: axis {axis} repeated in {Forge.Shape.Format(order)}");
            seen[axis] = true;
            shape[i] = _shape[axis];
            strides[i] = _strides[axis];
        }
        return new Tensor<T>(Storage, shape, strides, Offset);
    }

    /// <summary>Swaps two axes.</summary>
    public Tensor<T> Transpose(int axis0, int axis1)
    {
        var order = Enumerable.Range(0, Rank).ToArray();
        int a = Forge.Shape.NormalizeAxis("Transpose", axis0, Rank), b = Forge.Shape.NormalizeAxis("Transpose", axis1, Rank);
        (order[a], order[b]) = (order[b], order[a]);
        return Permute(order);
    }

    /// <summary>The sub-range [start, start+length) of one axis (torch.narrow).</summary>
    public Tensor<T> Narrow(int axis, int start, int length)
    {
        axis = Forge.Shape.NormalizeAxis("Narrow", axis, Rank);
        if (start < 0 || length < 0 || start + length > _shape[axis])
            throw new ShapeException($"Narrow: range [{start}, {start + length}) is outside axis {axis} of shape {Forge.Shape.Format(_shape)}");
        var shape = Shape;
        shape[axis] = length;
        return new Tensor<T>(Storage, shape, _strides, Offset + start * _strides[axis]);
    }

    /// <summary>Selects one index of an axis and drops that axis.</summary>
    public Tensor<T> Select(int axis, int index)
    {
        axis = Forge.Shape.NormalizeAxis("Select", axis, Rank);
        var narrowed = Narrow(axis, index, 1);
        return new Tensor<T>(Storage, Without(narrowed._shape, axis), Without(narrowed._strides, axis), narrowed.Offset);
    }

    /// <summary>Broadcasts axes of size 1 (and new leading axes) to <paramref name="shape"/> with stride 0.</summary>
    public Tensor<T> Expand(params int[] shape)
    {
        if (shape.Length < Rank) throw new ShapeException("Expand", "target has fewer axes", _shape, shape);
        var target = Forge.Shape.Broadcast("Expand", _shape, shape);
        if (!Forge.Shape.SameShape(target, shape)) throw new ShapeException("Expand", "cannot expand", _shape, shape);
        return new Tensor<T>(Storage, shape, Forge.Shape.BroadcastStrides(_shape, _strides, shape), Offset);
    }

    /// <summary>Inserts an axis of size 1 at <paramref name="axis"/>.</summary>
    public Tensor<T> Unsqueeze(int axis)
    {
        axis = Forge.Shape.NormalizeAxis("Unsqueeze", axis < 0 ? axis + Rank + 1 : axis, Rank + 1);
        var shape = _shape.ToList();
        var strides = _strides.ToList();
        shape.Insert(axis, 1);
        strides.Insert(axis, axis < Rank ? _strides[axis] * _shape[axis] : 1);
        return new Tensor<T>(Storage, [.. shape], [.. strides], Offset);
    }

    /// <summary>Removes an axis of size 1.</summary>
    public Tensor<T> Squeeze(int axis)
    {
        axis = Forge.Shape.NormalizeAxis("Squeeze", axis, Rank);
        if (_shape[axis] != 1) throw new ShapeException($"Squeeze: axis {axis} of shape {Forge.Shape.Format(_shape)} has size {_shape[axis]}, not 1");
        return new Tensor<T>(Storage, Without(_shape, axis), Without(_strides, axis), Offset);
    }

    static int[] Without(int[] values, int axis) => [.. values[..axis], .. values[(axis + 1)..]];
}
