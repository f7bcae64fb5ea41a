using System.Numerics;

namespace Forge.Kernels;

/// <summary>
/// Plain scalar versions of <see cref="Elementwise"/>: same signatures, one element at a time, every
/// multi-index decoded from scratch. Slow and obviously correct; the tests compare against these.
/// </summary>
public static class ElementwiseReference
{
    public static T Apply<T>(UnaryOp op, T x) where T : IFloatingPointIeee754<T> => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => T.Exp(x),
        UnaryOp.Log => T.Log(x),
        UnaryOp.Sqrt => T.Sqrt(x),
        UnaryOp.Square => x * x,
        UnaryOp.Tanh => T.Tanh(x),
        UnaryOp.Relu => T.Max(x, T.Zero),
        UnaryOp.Abs => T.Abs(x),
        UnaryOp.Reciprocal => T.One / x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static T Apply<T>(BinaryOp op, T a, T b) where T : IFloatingPointIeee754<T> => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => T.Max(a, b),
        BinaryOp.Min => T.Min(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static void Unary<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = Apply(op, x[i]);
    }

    public static void UnaryBackward<T>(UnaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T two = T.CreateChecked(2);
        for (int i = 0; i < x.Length; i++)
        {
            // d op(x) / dx, written from x alone.
            T derivative = op switch
            {
                UnaryOp.Neg => -T.One,
                UnaryOp.Exp => T.Exp(x[i]),
                UnaryOp.Log => T.One / x[i],
                UnaryOp.Sqrt => T.One / (two * T.Sqrt(x[i])),
                UnaryOp.Square => two * x[i],
                UnaryOp.Tanh => T.One - T.Tanh(x[i]) * T.Tanh(x[i]),
                UnaryOp.Relu => x[i] > T.Zero ? T.One : T.Zero,
                UnaryOp.Abs => x[i] > T.Zero ? T.One : x[i] < T.Zero ? -T.One : T.Zero,
                UnaryOp.Reciprocal => -T.One / (x[i] * x[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
            dx[i] += dy[i] * derivative;
        }
    }

    public static void Binary<T>(BinaryOp op, ReadOnlySpan<int> shape,
        ReadOnlySpan<T> a, int aOffset, ReadOnlySpan<int> aStrides,
        ReadOnlySpan<T> b, int bOffset, ReadOnlySpan<int> bStrides,
        Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(shape);
        for (int linear = 0; linear < count; linear++)
            y[linear] = Apply(op, a[Offset(shape, linear, aOffset, aStrides)], b[Offset(shape, linear, bOffset, bStrides)]);
    }

    public static void Scale<T>(ReadOnlySpan<T> x, T alpha, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = alpha * x[i];
    }

    public static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] += alpha * x[i];
    }

    public static void Fill<T>(Span<T> y, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < y.Length; i++) y[i] = value;
    }

    public static void Copy<T>(ReadOnlySpan<int> shape, ReadOnlySpan<T> x, int xOffset, ReadOnlySpan<int> xStrides, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(shape);
        for (int linear = 0; linear < count; linear++) y[linear] = x[Offset(shape, linear, xOffset, xStrides)];
    }

    public static void AddStrided<T>(ReadOnlySpan<int> shape, ReadOnlySpan<T> x, Span<T> y, int yOffset, ReadOnlySpan<int> yStrides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(shape);
        for (int linear = 0; linear < count; linear++) y[Offset(shape, linear, yOffset, yStrides)] += x[linear];
    }

    public static void ReduceBroadcast<T>(ReadOnlySpan<int> fullShape, ReadOnlySpan<T> x, ReadOnlySpan<int> targetShape, Span<T> target)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = Count(fullShape), missing = fullShape.Length - targetShape.Length;
        for (int linear = 0; linear < count; linear++)
        {
            // Decode the full index axis by axis (last fastest) and re-encode it in the target,
            // where a size-1 target axis always takes index 0.
            int rest = linear, targetIndex = 0, targetStride = 1;
            for (int axis = fullShape.Length - 1; axis >= 0; axis--)
            {
                int index = rest % fullShape[axis];
                rest /= fullShape[axis];
                if (axis < missing) continue;
                int targetDim = targetShape[axis - missing];
                if (targetDim != 1) targetIndex += index * targetStride;
                targetStride *= targetDim;
            }
            target[targetIndex] += x[linear];
        }
    }

    /// <summary>Product of the sizes.</summary>
    public static int Count(ReadOnlySpan<int> shape)
    {
        int count = 1;
        foreach (int dim in shape) count *= dim;
        return count;
    }

    /// <summary>Element offset of the row-major <paramref name="linear"/> index of <paramref name="shape"/> in a strided view.</summary>
    public static int Offset(ReadOnlySpan<int> shape, int linear, int offset, ReadOnlySpan<int> strides)
    {
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            offset += linear % shape[axis] * strides[axis];
            linear /= shape[axis];
        }
        return offset;
    }
}
