using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// The few <see cref="Vector512{T}"/> operations the GEMM kernels need, written once for float and
/// double. Each <c>typeof(T)</c> test is a JIT-time constant, so every instantiation compiles to the
/// single instruction it names (vfmadd231ps, a masked vmovups, …) with no branch left behind.
/// </summary>
static unsafe class GemmSimd
{
    /// <summary>True when the AVX-512 kernels can run: 512-bit vectors in hardware and masked loads/stores.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>a · b + c with one rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }

    /// <summary>All-ones in the first <paramref name="count"/> lanes, zero in the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> FirstLanes<T>(int count) where T : unmanaged
    {
        if (sizeof(T) == 4) return Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).As<int, T>();
        return Vector512.LessThan(Vector512<long>.Indices, Vector512.Create((long)count)).As<long, T>();
    }

    /// <summary>Loads the lanes selected by <paramref name="mask"/> (others read as 0); masked-off lanes never touch memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LoadMasked<T>(T* source, Vector512<T> mask) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Avx512F.MaskLoad((float*)source, mask.AsSingle(), Vector512<float>.Zero).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx512F.MaskLoad((double*)source, mask.AsDouble(), Vector512<double>.Zero).As<double, T>();
        throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }

    /// <summary>Stores the lanes selected by <paramref name="mask"/>; masked-off lanes never touch memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreMasked<T>(T* destination, Vector512<T> mask, Vector512<T> value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Avx512F.MaskStore((float*)destination, mask.AsSingle(), value.AsSingle());
        else if (typeof(T) == typeof(double)) Avx512F.MaskStore((double*)destination, mask.AsDouble(), value.AsDouble());
        else throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }
}
