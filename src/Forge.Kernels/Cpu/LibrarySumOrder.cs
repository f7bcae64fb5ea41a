using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Forge.Kernels;

/// <summary>
/// <c>TensorPrimitives.Sum</c> and <c>SumOfSquares</c> (System.Numerics.Tensors 10.0, the 512-bit path taken on
/// AVX-512 machines) re-done in the library's exact order, with a transform applied to each element as it is
/// loaded, so a kernel can fuse "subtract the mean, then sum the squares" into one pass over a row and still get
/// the library's bits — the bits every pinned number of the float models was computed with.
/// <para>
/// The library's order for n ≥ W elements (W = lanes of a 512-bit vector): one vector accumulator starting at 0;
/// above 8W elements it first skips the first vector and adds blocks of 8 vectors one by one; then it adds the
/// first vector, the remaining whole vectors ending where the last whole vector ends, and the last (overlapping)
/// vector with only its not-yet-counted lanes kept; finally <see cref="Vector512.Sum{T}(Vector512{T})"/>.
/// <c>LibrarySumOrderTests</c> checks this against the library bit for bit, so a package update that changes it
/// fails there instead of silently moving results.
/// </para>
/// </summary>
internal static unsafe class LibrarySumOrder
{
    /// <summary>A per-element transform applied to each loaded vector before it is summed.</summary>
    public interface ITransform<T> where T : unmanaged
    {
        Vector512<T> Invoke(Vector512<T> v);
    }

    /// <summary>The element itself: <c>TensorPrimitives.Sum</c>.</summary>
    public readonly struct Identity<T> : ITransform<T> where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> v) => v;
    }

    /// <summary>(x − shift)², the subtraction rounded first: <c>TensorPrimitives.SumOfSquares</c> of x − shift.</summary>
    public readonly struct SquaredDeviation<T>(T shift) : ITransform<T> where T : unmanaged
    {
        readonly Vector512<T> _shift = Vector512.Create(shift);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Invoke(Vector512<T> v)
        {
            var deviation = v - _shift;
            return deviation * deviation;
        }
    }

    /// <summary>
    /// True where <see cref="Sum{T, TTransform}"/> reproduces the library: the library takes its 512-bit path on this
    /// machine, T is float or double, and there is at least one whole vector (shorter spans take the library's own
    /// small-size path, which callers use directly).
    /// </summary>
    public static bool Applies<T>(int length) where T : unmanaged =>
        Vector512.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        && length >= Vector512<T>.Count;

    /// <summary>Σ transform(x[i]) over <paramref name="length"/> elements in the library's order; <see cref="Applies{T}"/> must hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum<T, TTransform>(T* x, int length, TTransform transform)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        where TTransform : struct, ITransform<T>
    {
        int w = Vector512<T>.Count;
        var sum = Vector512<T>.Zero;
        var first = transform.Invoke(Vector512.Load(x));
        var last = transform.Invoke(Vector512.Load(x + length - w));
        T* p = x;
        int remainder = length;
        bool firstSkipped = false;
        if (remainder > 8 * w)
        {
            firstSkipped = true;
            p += w;
            remainder -= w;
            for (; remainder >= 8 * w; p += 8 * w, remainder -= 8 * w)
            {
                sum += transform.Invoke(Vector512.Load(p));
                sum += transform.Invoke(Vector512.Load(p + w));
                sum += transform.Invoke(Vector512.Load(p + 2 * w));
                sum += transform.Invoke(Vector512.Load(p + 3 * w));
                sum += transform.Invoke(Vector512.Load(p + 4 * w));
                sum += transform.Invoke(Vector512.Load(p + 5 * w));
                sum += transform.Invoke(Vector512.Load(p + 6 * w));
                sum += transform.Invoke(Vector512.Load(p + 7 * w));
            }
        }
        sum += first;
        int blocks = remainder / w, trailing = remainder % w;
        if (!firstSkipped) blocks--;
        remainder -= trailing;
        for (int b = blocks; b >= 1; b--) sum += transform.Invoke(Vector512.Load(p + remainder - b * w));
        sum += Vector512.ConditionalSelect(LastLanes<T>(trailing), last, Vector512<T>.Zero);
        return Vector512.Sum(sum);
    }

    /// <summary>A mask of the last <paramref name="count"/> lanes (0 ≤ count &lt; W).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> LastLanes<T>(int count) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(16 - count)).As<int, T>();
        return Vector512.GreaterThanOrEqual(Vector512<long>.Indices, Vector512.Create(8L - count)).As<long, T>();
    }
}
