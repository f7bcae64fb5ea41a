using System.Numerics;

namespace Forge.Autograd.Ops;

/// <summary>
/// How a tensor of shape [batch…, rows, cols] can be handed to GEMM without copying: row-major
/// (<see cref="Transposed"/> false, row stride <see cref="LeadingDimension"/>) or column-major (a
/// transposed view of a row-major matrix), with all batch axes collapsing into one stride.
/// </summary>
internal readonly record struct MatrixLayout(bool Transposed, int LeadingDimension, long BatchStride, int Batch)
{
    /// <summary>The layout, or null when the view needs a contiguous copy first.</summary>
    public static MatrixLayout? Of<T>(Tensor<T> tensor) where T : unmanaged, INumberBase<T>
    {
        var shape = tensor.ShapeSpan;
        var strides = tensor.StridesSpan;
        int r = shape.Length;
        int rows = shape[r - 2], cols = shape[r - 1];
        int rowStride = strides[r - 2], colStride = strides[r - 1];

        bool transposed;
        int ld;
        if (colStride == 1 || cols == 1) (transposed, ld) = (false, rows == 1 ? Math.Max(cols, 1) : rowStride);
        else if (rowStride == 1 || rows == 1) (transposed, ld) = (true, cols == 1 ? Math.Max(rows, 1) : colStride);
        else return null;
        if (ld < (transposed ? rows : cols) || ld <= 0) return null;

        int batch = 1;
        long batchStride = 0;
        for (int axis = r - 3; axis >= 0; axis--)
        {
            if (shape[axis] == 1) continue;
            if (batch == 1) batchStride = strides[axis];
            else if (strides[axis] != batchStride * batch) return null; // batch axes must merge into one
            batch *= shape[axis];
        }
        return new MatrixLayout(transposed, ld, batchStride, batch);
    }
}
