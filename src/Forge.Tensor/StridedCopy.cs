namespace Forge;

/// <summary>
/// Plain odometer loops between a strided view and a contiguous row-major buffer. This is the layout
/// primitive of the type itself (ToArray, Contiguous, CopyFrom); hot paths use the SIMD kernels.
/// </summary>
internal static class StridedCopy
{
    /// <summary>destination[row-major i] = source[offset + Σ index·stride].</summary>
    public static void Gather<T>(T[] source, int offset, int[] shape, int[] strides, Span<T> destination)
    {
        if (Shape.IsContiguous(shape, strides))
        {
            source.AsSpan(offset, destination.Length).CopyTo(destination);
            return;
        }
        Span<int> index = stackalloc int[shape.Length];
        int position = offset;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = source[position];
            position = Advance(index, shape, strides, position);
        }
    }

    /// <summary>destination[offset + Σ index·stride] = source[row-major i].</summary>
    public static void Scatter<T>(ReadOnlySpan<T> source, T[] destination, int offset, int[] shape, int[] strides)
    {
        Span<int> index = stackalloc int[shape.Length];
        int position = offset;
        for (int i = 0; i < source.Length; i++)
        {
            destination[position] = source[i];
            position = Advance(index, shape, strides, position);
        }
    }

    /// <summary>Steps a multi-index one element forward in row-major order; returns the new flat position.</summary>
    public static int Advance(Span<int> index, int[] shape, int[] strides, int position)
    {
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            position += strides[axis];
            if (++index[axis] < shape[axis]) return position;
            position -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
        return position;
    }
}
