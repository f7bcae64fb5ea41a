using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// GELU (tanh approximation) on an ILGPU device, with the contract of <see cref="Gelu"/>:
/// y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³); backward accumulates dx += dy·gelu′(x).
/// One thread per element; the constants travel as arguments (generic math cannot convert a double
/// constant to T inside a kernel).
/// </summary>
public static class IlgpuGelu
{
    /// <summary>y = gelu(x). x and y are (n), n = x.Length; y may be x.</summary>
    public static void Forward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("IlgpuGelu.Forward", nameof(y), Views.Length(y), x.Length, "x.Length");
        Launch(backend, forward: true, x.Length, Arguments(x, default, y));
    }

    /// <summary>
    /// dx += dy·gelu′(x), or dx = dy·gelu′(x) when <paramref name="accumulate"/> is false (dx's old contents,
    /// even NaN, are never read). x, dy and dx are (n), n = x.Length.
    /// </summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> dy,
        ArrayView1D<T, Stride1D.Dense> dx, bool accumulate = true) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("IlgpuGelu.Backward", nameof(dy), Views.Length(dy), x.Length, "x.Length");
        Check.AtLeast("IlgpuGelu.Backward", nameof(dx), Views.Length(dx), x.Length, "x.Length");
        var args = Arguments(x, dy, dx);
        args.Accumulate = accumulate ? 1 : 0;
        Launch(backend, forward: false, x.Length, args);
    }

    static GeluArgs<T> Arguments<T>(ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> dy, ArrayView1D<T, Stride1D.Dense> output)
        where T : unmanaged, IFloatingPointIeee754<T> => new()
    {
        X = x, DY = dy, Out = output,
        Coefficient = T.CreateChecked(Gelu.Coefficient), SqrtTwoOverPi = T.CreateChecked(Gelu.SqrtTwoOverPi),
        Half = T.CreateChecked(0.5), ThreeCoefficient = T.CreateChecked(3 * Gelu.Coefficient),
    };

    static void Launch<T>(IlgpuBackend backend, bool forward, long count, GeluArgs<T> args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, "IlgpuGelu");
        if (count == 0) return;
        if (count > int.MaxValue) throw new NotSupportedException($"IlgpuGelu: {count} elements in one launch.");
        var kernels = backend.Kernels<Kernels<T>>();
        (forward ? kernels.Forward : kernels.Backward)(backend.Stream, (int)count, args);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, GeluArgs<T>> Forward, Backward;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Forward = KernelMethods.Indexed<T, GeluArgs<T>>(backend, typeof(GeluKernels), nameof(GeluKernels.Forward)),
            Backward = KernelMethods.Indexed<T, GeluArgs<T>>(backend, typeof(GeluKernels), nameof(GeluKernels.Backward)),
        };
    }
}

/// <summary>Arguments of the GELU kernels: Out is y (forward) or dx (backward).</summary>
internal struct GeluArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> X, DY, Out;
    public T Coefficient, SqrtTwoOverPi, Half, ThreeCoefficient;
    public int Accumulate;   // backward: 1 adds to dx, 0 overwrites it
}

/// <summary>Device code of <see cref="IlgpuGelu"/>, written as <see cref="GeluReference"/>.</summary>
internal static class GeluKernels
{
    internal static void Forward<T>(Index1D i, GeluArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T x = s.X[i];
        T u = s.SqrtTwoOverPi * (x + s.Coefficient * x * x * x);
        s.Out[i] = s.Half * x * (T.One + T.Tanh(u));
    }

    internal static void Backward<T>(Index1D i, GeluArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T x = s.X[i];
        T t = T.Tanh(s.SqrtTwoOverPi * (x + s.Coefficient * x * x * x));
        // d/dx [½x(1 + tanh u)] = ½(1 + tanh u) + ½x·(1 − tanh² u)·√(2/π)(1 + 3·0.044715·x²)
        T local = s.Half * (T.One + t) + s.Half * x * (T.One - t * t) * s.SqrtTwoOverPi * (T.One + s.ThreeCoefficient * x * x);
        T dx = s.DY[i] * local;
        s.Out[i] = s.Accumulate != 0 ? s.Out[i] + dx : dx;
    }
}
