using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Contiguous element-wise kernels on an ILGPU device, with the contracts of <see cref="Elementwise"/>:
/// unary maps and their gradients, scale, axpy, fill (this file), and the strided / broadcasting
/// ones in IlgpuElementwiseStrided.cs. One thread per element; outputs may be the inputs (in place).
/// </summary>
public static partial class IlgpuElementwise
{
    /// <summary>y = op(x). x and y are (n), n = x.Length.</summary>
    public static void Unary<T>(IlgpuBackend backend, UnaryOp op, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("IlgpuElementwise.Unary", nameof(y), Views.Length(y), x.Length, "x.Length");
        CheckOp(op, "IlgpuElementwise.Unary");
        Launch(backend, k => k.Unary, x.Length, new ElementwiseArgs<T> { X = x, Y = y, Op = (int)op });
    }

    /// <summary>
    /// dx += dy ⊙ op′, with the rules of <see cref="Elementwise.UnaryBackward{T}"/> (each uses x or the
    /// forward output y, whichever is cheaper). x, y, dy and dx are (n), n = x.Length.
    /// </summary>
    public static void UnaryBackward<T>(IlgpuBackend backend, UnaryOp op, ArrayView1D<T, Stride1D.Dense> x,
        ArrayView1D<T, Stride1D.Dense> y, ArrayView1D<T, Stride1D.Dense> dy, ArrayView1D<T, Stride1D.Dense> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuElementwise.UnaryBackward";
        Check.AtLeast(kernel, nameof(y), Views.Length(y), x.Length, "x.Length");
        Check.AtLeast(kernel, nameof(dy), Views.Length(dy), x.Length, "x.Length");
        Check.AtLeast(kernel, nameof(dx), Views.Length(dx), x.Length, "x.Length");
        CheckOp(op, kernel);
        Launch(backend, k => k.UnaryBackward, x.Length, new ElementwiseArgs<T> { X = x, Y = y, DY = dy, DX = dx, Op = (int)op });
    }

    /// <summary>y = alpha·x. x and y are (n), n = x.Length.</summary>
    public static void Scale<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, T alpha, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("IlgpuElementwise.Scale", nameof(y), Views.Length(y), x.Length, "x.Length");
        Launch(backend, k => k.Scale, x.Length, new ElementwiseArgs<T> { X = x, Y = y, Alpha = alpha });
    }

    /// <summary>y += alpha·x. x and y are (n), n = x.Length.</summary>
    public static void Axpy<T>(IlgpuBackend backend, T alpha, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("IlgpuElementwise.Axpy", nameof(y), Views.Length(y), x.Length, "x.Length");
        Launch(backend, k => k.Axpy, x.Length, new ElementwiseArgs<T> { X = x, Y = y, Alpha = alpha });
    }

    /// <summary>y[i] = value for every element of y.</summary>
    public static void Fill<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> y, T value)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch(backend, k => k.Fill, y.Length, new ElementwiseArgs<T> { Y = y, Alpha = value });

    static void CheckOp(UnaryOp op, string kernel)
    {
        if ((uint)op > (uint)UnaryOp.Reciprocal) throw new ArgumentOutOfRangeException(nameof(op), op, $"{kernel}: unknown operation.");
    }

    static void Launch<T>(IlgpuBackend backend, Func<Kernels<T>, Action<AcceleratorStream, Index1D, ElementwiseArgs<T>>> pick,
        long count, ElementwiseArgs<T> args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, "IlgpuElementwise");
        if (count == 0) return;
        if (count > int.MaxValue) throw new NotSupportedException($"IlgpuElementwise: {count} elements in one launch.");
        pick(backend.Kernels<Kernels<T>>())(backend.Stream, (int)count, args);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, ElementwiseArgs<T>> Unary, UnaryBackward, Scale, Axpy, Fill;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Unary = Load(backend, nameof(ElementwiseKernels.Unary)),
            UnaryBackward = Load(backend, nameof(ElementwiseKernels.UnaryBackward)),
            Scale = Load(backend, nameof(ElementwiseKernels.Scale)),
            Axpy = Load(backend, nameof(ElementwiseKernels.Axpy)),
            Fill = Load(backend, nameof(ElementwiseKernels.Fill)),
        };

        static Action<AcceleratorStream, Index1D, ElementwiseArgs<T>> Load(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, ElementwiseArgs<T>>(backend, typeof(ElementwiseKernels), name);
    }
}

/// <summary>Arguments of the contiguous element-wise kernels. Op is a <see cref="UnaryOp"/>.</summary>
internal struct ElementwiseArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> X, Y, DY, DX;
    public int Op;
    public T Alpha;
}

/// <summary>Device code of <see cref="IlgpuElementwise"/>'s contiguous kernels: one thread per element.</summary>
internal static class ElementwiseKernels
{
    internal static void Unary<T>(Index1D i, ElementwiseArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T> =>
        s.Y[i] = Apply(s.Op, s.X[i]);

    /// <summary>op(x) as <see cref="ElementwiseReference.Apply{T}(UnaryOp, T)"/> (a uniform switch: every thread takes the same case).</summary>
    static T Apply<T>(int op, T x) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        (int)UnaryOp.Neg => -x,
        (int)UnaryOp.Exp => T.Exp(x),
        (int)UnaryOp.Log => T.Log(x),
        (int)UnaryOp.Sqrt => T.Sqrt(x),
        (int)UnaryOp.Square => x * x,
        (int)UnaryOp.Tanh => T.Tanh(x),
        (int)UnaryOp.Relu => T.Max(x, T.Zero),
        (int)UnaryOp.Abs => T.Abs(x),
        _ => T.One / x,   // Reciprocal (the host rejects unknown ops)
    };

    /// <summary>dx += the gradient of op, from x, the forward output y and dy.</summary>
    internal static void UnaryBackward<T>(Index1D i, ElementwiseArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T x = s.X[i], y = s.Y[i], dy = s.DY[i];
        T gradient = s.Op switch
        {
            (int)UnaryOp.Neg => -dy,
            (int)UnaryOp.Exp => dy * y,
            (int)UnaryOp.Log => dy / x,
            (int)UnaryOp.Sqrt => dy / (y + y),
            (int)UnaryOp.Square => dy * (x + x),
            (int)UnaryOp.Tanh => dy * (T.One - y * y),
            (int)UnaryOp.Relu => x > T.Zero ? dy : T.Zero,
            (int)UnaryOp.Abs => x > T.Zero ? dy : x < T.Zero ? -dy : T.Zero,
            _ => -dy * (y * y),   // Reciprocal
        };
        s.DX[i] += gradient;
    }

    internal static void Scale<T>(Index1D i, ElementwiseArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T> =>
        s.Y[i] = s.Alpha * s.X[i];

    internal static void Axpy<T>(Index1D i, ElementwiseArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T> =>
        s.Y[i] += s.Alpha * s.X[i];

    internal static void Fill<T>(Index1D i, ElementwiseArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T> =>
        s.Y[i] = s.Alpha;
}
