using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// The few vector operations the GEMM kernels need, for <see cref="Vector512{T}"/> (AVX-512) and
/// <see cref="Vector256{T}"/> (AVX2 + FMA), written once for float and double. Each <c>typeof(T)</c> test is
/// a JIT-time constant, so every instantiation compiles to the single instruction it names (vfmadd231ps,
/// a masked vmovups or vmaskmovps, …) with no branch left behind.
/// </summary>
static unsafe class GemmSimd
{
    /// <summary>True when the AVX-512 kernels run (<see cref="GemmMicrokernelAvx512"/>): 512-bit vectors in hardware and masked loads/stores.</summary>
    public static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>True when the AVX2 kernels run (<see cref="GemmMicrokernelAvx2"/>): no AVX-512, but 256-bit vectors with FMA (Haswell, Zen 1–3 and later).</summary>
    public static bool Narrow => !Wide && Vector256.IsHardwareAccelerated && Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    /// <summary>True when either set of blocked kernels can run; otherwise <see cref="Gemm"/> falls back to the scalar reference.</summary>
    public static bool IsSupported => Wide || Narrow;

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

    /// <summary>a · b + c with one rounding (256-bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }

    /// <summary>All-ones in the first <paramref name="count"/> lanes of a 256-bit vector, zero in the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> FirstLanes256<T>(int count) where T : unmanaged
    {
        if (sizeof(T) == 4) return Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).As<int, T>();
        return Vector256.LessThan(Vector256<long>.Indices, Vector256.Create((long)count)).As<long, T>();
    }

    /// <summary>Loads the lanes selected by <paramref name="mask"/> (others read as 0; vmaskmovps never touches masked-off memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LoadMasked<T>(T* source, Vector256<T> mask) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Avx.MaskLoad((float*)source, mask.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Avx.MaskLoad((double*)source, mask.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }

    /// <summary>Stores the lanes selected by <paramref name="mask"/>; masked-off lanes never touch memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreMasked<T>(T* destination, Vector256<T> mask, Vector256<T> value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Avx.MaskStore((float*)destination, mask.AsSingle(), value.AsSingle());
        else if (typeof(T) == typeof(double)) Avx.MaskStore((double*)destination, mask.AsDouble(), value.AsDouble());
        else throw new NotSupportedException($"Gemm: no vector kernel for {typeof(T).Name}.");
    }
}
