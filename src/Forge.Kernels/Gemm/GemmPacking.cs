using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Forge.Kernels;

/// <summary>
/// Copies blocks of the operands into the layouts the microkernel streams through, whatever the
/// transpose flags: B becomes slivers of (kc, 2W) and A slivers of (kc, <see cref="ASliverWidth"/>),
/// both contiguous and zero-padded past the matrix edge, so the microkernel never reads outside the
/// matrices and never branches on shape.
/// </summary>
static unsafe class GemmPacking
{
    /// <summary>
    /// Row pitch of a packed A sliver: the microkernel's rows rounded up to a multiple of 8 (AVX-512: 14 → 16,
    /// AVX2: 6 → 8), so each step starts 32- or 64-byte aligned (float) and the transposing copy writes whole
    /// 8- or 4-wide blocks.
    /// </summary>
    public static int ASliverWidth => (GemmMicrokernel.Rows + 7) / 8 * 8;

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
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* sliver = dest + (nint)j0 * kc;
            // op(B)[p, j] is b[j·ldb + p] when transposed (a line per column), else b[p·ldb + j] (a line per step).
            if (transB) GemmTranspose.Lines(b + j0 * ldb, ldb, cols, kc, sliver, nr, nr);
            else CopyLines(b + j0, ldb, kc, cols, sliver, nr);
        }
    }

    /// <summary>
    /// Packs a (rows ≤ 14, kc) block of op(A) starting at <paramref name="a"/> into one sliver:
    /// element (i, p) at dest[p·<see cref="ASliverWidth"/> + i], rows past <paramref name="rows"/> zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool transA, T* a, nint lda, int rows, int kc, T* dest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // op(A)[i, p] is a[p·lda + i] when transposed (a line per step), else a[i·lda + p] (a line per row).
        if (transA) CopyLines(a, lda, kc, rows, dest, ASliverWidth);
        else GemmTranspose.Lines(a, lda, rows, kc, dest, ASliverWidth, ASliverWidth);
    }

    /// <summary>
    /// Straight copy of <paramref name="lines"/> source lines (at source + p·ld) of
    /// <paramref name="count"/> elements each into rows of <paramref name="destWidth"/> (one or two
    /// vectors), zero past count. Masked loads never read past the end of a line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyLines<T>(T* source, nint ld, int lines, int count, T* dest, int destWidth)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (GemmSimd.Wide) CopyLines512(source, ld, lines, count, dest, destWidth);
        else CopyLines256(source, ld, lines, count, dest, destWidth);
    }

    static void CopyLines512<T>(T* source, nint ld, int lines, int count, T* dest, int destWidth)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Vector512<T>.Count;
        bool twoVectors = destWidth > width;
        if (count == destWidth)
        {
            for (int p = 0; p < lines; p++, source += ld, dest += destWidth)
            {
                Vector512.Load(source).Store(dest);
                if (twoVectors) Vector512.Load(source + width).Store(dest + width);
            }
            return;
        }
        var leftMask = GemmSimd.FirstLanes<T>(count);
        var rightMask = GemmSimd.FirstLanes<T>(count - width);
        for (int p = 0; p < lines; p++, source += ld, dest += destWidth)
        {
            GemmSimd.LoadMasked(source, leftMask).Store(dest);
            if (twoVectors) GemmSimd.LoadMasked(source + width, rightMask).Store(dest + width);
        }
    }

    /// <summary><see cref="CopyLines512{T}"/> with 256-bit vectors (AVX2): destWidth is one or two of them.</summary>
    static void CopyLines256<T>(T* source, nint ld, int lines, int count, T* dest, int destWidth)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Vector256<T>.Count;
        bool twoVectors = destWidth > width;
        if (count == destWidth)
        {
            for (int p = 0; p < lines; p++, source += ld, dest += destWidth)
            {
                Vector256.Load(source).Store(dest);
                if (twoVectors) Vector256.Load(source + width).Store(dest + width);
            }
            return;
        }
        var leftMask = GemmSimd.FirstLanes256<T>(count);
        var rightMask = GemmSimd.FirstLanes256<T>(count - width);
        for (int p = 0; p < lines; p++, source += ld, dest += destWidth)
        {
            GemmSimd.LoadMasked(source, leftMask).Store(dest);
            if (twoVectors) GemmSimd.LoadMasked(source + width, rightMask).Store(dest + width);
        }
    }
}
