using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Forge.Kernels;

/// <summary>
/// Copies blocks of the operands into the layouts the microkernel streams through, whatever the
/// transpose flags: B becomes slivers of (kc, 2W) and A slivers of (kc, 14), both contiguous and
/// zero-padded past the matrix edge, so the microkernel never branches on shape or stride.
/// </summary>
static unsafe class GemmPacking
{
    /// <summary>
    /// Packs the (kc, nc) block of op(B) whose top-left element is <paramref name="b"/>. Sliver s holds
    /// columns s·NR .. s·NR+NR−1 as kc rows of NR (element (p, j) at dest[s·kc·NR + p·NR + j]);
    /// columns past nc are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(bool transB, T* b, nint ldb, int kc, int nc, T* dest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = GemmMicrokernel.Columns<T>();
        for (int s = 0; s * nr < nc; s++)
        {
            int j0 = s * nr, cols = Math.Min(nr, nc - j0);
            T* sliver = dest + (nint)s * kc * nr;
            if (transB) PackColumnsOfTransposed(b + j0 * ldb, ldb, kc, cols, sliver, nr);
            else PackRowsOfB(b + j0, ldb, kc, cols, sliver);
        }
    }

    /// <summary>
    /// Packs a (rows ≤ 14, kc) block of op(A) starting at <paramref name="a"/> into one sliver: element
    /// (i, p) at dest[p·14 + i], rows past <paramref name="rows"/> zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool transA, T* a, nint lda, int rows, int kc, T* dest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int mr = GemmMicrokernel.Rows;
        if (transA)
        {
            // op(A)[i, p] = a[p·lda + i]: each step's rows are contiguous.
            if (rows < mr) new Span<T>(dest, kc * mr).Clear();
            for (int p = 0; p < kc; p++)
            {
                new ReadOnlySpan<T>(a + p * lda, rows).CopyTo(new Span<T>(dest + p * mr, rows));
            }
        }
        else
        {
            PackColumnsOfTransposed(a, lda, kc, rows, dest, mr);
        }
    }

    /// <summary>op(B) stored as is: each of the kc rows is a contiguous run of <paramref name="cols"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PackRowsOfB<T>(T* b, nint ldb, int kc, int cols, T* sliver)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Vector512<T>.Count;
        if (cols == 2 * width)
        {
            for (int p = 0; p < kc; p++, b += ldb, sliver += 2 * width)
            {
                Vector512.Load(b).Store(sliver);
                Vector512.Load(b + width).Store(sliver + width);
            }
            return;
        }
        // The last sliver: masked loads never read past the matrix, and the masked-off lanes come back 0.
        var leftMask = GemmSimd.FirstLanes<T>(cols);
        var rightMask = GemmSimd.FirstLanes<T>(cols - width);
        for (int p = 0; p < kc; p++, b += ldb, sliver += 2 * width)
        {
            GemmSimd.LoadMasked(b, leftMask).Store(sliver);
            GemmSimd.LoadMasked(b + width, rightMask).Store(sliver + width);
        }
    }

    /// <summary>
    /// Transposing copy: source line j (at source + j·ld) holds kc consecutive elements; they become
    /// column j of a (kc, destWidth) row-major block. Columns from <paramref name="lines"/> on are zeroed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackColumnsOfTransposed<T>(T* source, nint ld, int kc, int lines, T* dest, int destWidth)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmTranspose.Lines(source, ld, lines, kc, dest, destWidth);
        for (int p = 0; p < kc && lines < destWidth; p++)
        {
            new Span<T>(dest + p * destWidth + lines, destWidth - lines).Clear();
        }
    }
}
