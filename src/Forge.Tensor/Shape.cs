namespace Forge;

/// <summary>Helpers for shapes (int arrays, row-major) and their strides.</summary>
public static class Shape
{
    /// <summary>Number of elements of a tensor of this shape (1 for a scalar, shape []).</summary>
    public static int Count(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0) throw new ShapeException($"Shape: negative dimension {dim} in {Format(shape.ToArray())}");
            count *= dim;
            if (count > int.MaxValue) throw new ShapeException($"Shape: {Format(shape.ToArray())} has more than 2^31 elements");
        }
        return (int)count;
    }

    /// <summary>Row-major (C order) strides: the last axis is contiguous.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= Math.Max(shape[axis], 1);
        }
        return strides;
    }

    /// <summary>True when <paramref name="strides"/> are the row-major strides of <paramref name="shape"/>
    /// (axes of size 1 may have any stride).</summary>
    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int expected = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            if (shape[axis] == 1) continue;
            if (strides[axis] != expected) return false;
            expected *= shape[axis];
        }
        return true;
    }

    /// <summary>Resolves a negative axis (−1 = last) and checks its range.</summary>
    public static int NormalizeAxis(string operation, int axis, int rank)
    {
        int resolved = axis < 0 ? axis + rank : axis;
        if (resolved < 0 || resolved >= rank)
            throw new ShapeException($"{operation}: axis {axis} is out of range for a tensor of rank {rank}");
        return resolved;
    }

    /// <summary>
    /// The shape two operands broadcast to (NumPy rules: align trailing axes; sizes must match or be 1).
    /// </summary>
    public static int[] Broadcast(string operation, int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) throw new ShapeException(operation, "shapes do not broadcast", a, b);
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>
    /// Strides that let a tensor of <paramref name="shape"/>/<paramref name="strides"/> be read as if it
    /// had <paramref name="target"/> shape: broadcast axes get stride 0.
    /// </summary>
    public static int[] BroadcastStrides(int[] shape, int[] strides, int[] target)
    {
        var result = new int[target.Length];
        int lead = target.Length - shape.Length;
        for (int i = 0; i < target.Length; i++)
        {
            if (i < lead) continue;
            result[i] = shape[i - lead] == 1 && target[i] != 1 ? 0 : strides[i - lead];
        }
        return result;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Formats a shape like PyTorch prints it: <c>[2, 3]</c>.</summary>
    public static string Format(int[] shape) => "[" + string.Join(", ", shape) + "]";
}
