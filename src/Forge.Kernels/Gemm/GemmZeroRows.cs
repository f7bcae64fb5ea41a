using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Forge.Kernels;

/// <summary>
/// A linear layer's backward (<see cref="Gemm.LinearBackward{T}"/>) when many rows of dY are zero: only the
/// other rows are multiplied.
/// <para>
/// Why: a masked loss gives the positions it ignores a zero gradient — the sorting task scores 10 of its 21
/// positions, so 11 of every 21 rows of the unembedding's dY are zero, and half of that layer's backward
/// multiplied zeros. Here the rows of dY that hold a non-zero (or a NaN) are gathered into a contiguous copy, dX
/// is computed for those rows alone and scattered back, and dW sums over them alone.
/// </para>
/// <para>
/// Bits: the same as the dense GEMMs (a zero's sign aside). A zero row of dY gives a row of dX that is
/// exactly β·dX + 0, written here as that. In dW = Xᵀ·dY each element is a chain of multiply-adds over
/// the rows, cut into the k blocks of <see cref="GemmBlocked.KBlock"/> (a function of m, the depth), each
/// block's sum stored onto the blocks before it; a zero row adds an exact zero to its block's chain. So
/// the rows are gathered block by block — the blocks the dense GEMM would use for all m rows — and each
/// block's non-zero rows run as one product stored onto the blocks before it: every element sees the same
/// additions in the same order. A skipped row whose X holds an infinity or NaN would have made the
/// dense dW NaN (0·∞); then the dense path runs instead, so that still shows.
/// </para>
/// Taken where dW is not split along k (<see cref="GemmSplitK"/>; those chunks are another order) and at
/// least a quarter of the rows are zero. Scratch is per thread and grows once; steady state allocates nothing.
/// </summary>
static unsafe class GemmZeroRows
{
    /// <summary>Fewer zero rows than m / MinZeroFraction: the gather and scatter would cost more than they save.</summary>
    const int MinZeroFraction = 4;

    [ThreadStatic] static int[]? t_rows;
    [ThreadStatic] static byte[]? t_scratch;

    /// <summary>
    /// dX = dY·op(W)ᵀ + betaX·dX and dW = Xᵀ·dY + betaW·dW as <see cref="Gemm.LinearBackward{T}"/> (dx or dw null:
    /// not computed) when enough rows of dY are zero; returns false, having written nothing, when it does
    /// not apply. Arguments are already checked; m, k, n ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryRun<T>(int m, int k, int n, T* dy, T* x, T* w, bool transW, int ldw,
        T* dx, T betaX, T* dw, T betaW) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!GemmSimd.IsSupported || (typeof(T) != typeof(float) && typeof(T) != typeof(double))) return false;
        if (dw != null && GemmSplitK.Applies(k, n, m)) return false;
        var rowBuffer = Rows(m);
        fixed (int* nonZero = rowBuffer)
        {
            int count = NonZeroRows(m, n, dy, nonZero);
            if (m - count < m / MinZeroFraction || m - count == 0) return false;
            if (dw != null && !SkippedRowsFinite(m, k, x, nonZero, count)) return false;

            // Scratch: dY's rows (count, n), then X's or dX's rows (count, k).
            T* dyRows = Scratch<T>((long)count * (n + k));
            T* otherRows = dyRows + (nint)count * n;
            Gather(dy, n, nonZero, count, dyRows);

            if (dx != null)
            {
                // dX[rows] = dY[rows]·op(W)ᵀ (+ βX·dX[rows]); each row is computed as the dense GEMM computes it.
                if (betaX != T.Zero) Gather(dx, k, nonZero, count, otherRows);
                Gemm.Run(false, !transW, count, k, n, T.One, new ReadOnlySpan<T>(dyRows, count * n), n,
                    new ReadOnlySpan<T>(w, (int)GemmArguments.Extent(!transW, n, k, ldw)), ldw,
                    betaX, new Span<T>(otherRows, count * k), k);
                ScatterAndZero(dx, k, m, nonZero, count, otherRows, betaX);
            }
            if (dw != null)
            {
                // dW = Σ over the dense GEMM's k blocks, in order, of X[block's rows]ᵀ·dY[block's rows].
                int block = GemmBlocked.KBlock(m), first = 0;
                Gather(x, k, nonZero, count, otherRows);
                for (int start = 0; start < m; start += block)
                {
                    int end = Math.Min(m, start + block), last = first;
                    while (last < count && nonZero[last] < end) last++;
                    T beta = start == 0 ? betaW : T.One;
                    int rowsInBlock = last - first;
                    // k = 0 (no non-zero row in this block) gives β·dW, as the dense block adds an exact 0.
                    Gemm.Run(true, false, k, n, rowsInBlock, T.One,
                        new ReadOnlySpan<T>(otherRows + (nint)first * k, rowsInBlock * k), k,
                        new ReadOnlySpan<T>(dyRows + (nint)first * n, rowsInBlock * n), n,
                        beta, new Span<T>(dw, k * n), n);
                    first = last;
                }
            }
        }
        return true;
    }

    /// <summary>Writes the indices of the rows of dY (m, n) holding anything but ±0 (NaN counts) to rows; returns how many.</summary>
    static int NonZeroRows<T>(int m, int n, T* dy, int* rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = 0;
        for (int i = 0; i < m; i++)
            if (!IsZero(dy + (nint)i * n, n)) rows[count++] = i;
        return count;
    }

    static bool IsZero<T>(T* row, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        for (; j + Vector512<T>.Count <= n; j += Vector512<T>.Count)
            if (!Vector512.EqualsAll(Vector512.Load(row + j), Vector512<T>.Zero)) return false;   // −0 == 0; NaN ≠ 0
        for (; j < n; j++)
            if (row[j] != T.Zero) return false;
        return true;
    }

    /// <summary>True when every row of X (m, k) that is not in rows is finite (0 times it is an exact 0).</summary>
    static bool SkippedRowsFinite<T>(int m, int k, T* x, int* rows, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var product = Vector512<T>.Zero;
        T scalar = T.Zero;
        int next = 0;
        for (int i = 0; i < m; i++)
        {
            if (next < count && rows[next] == i) { next++; continue; }
            T* row = x + (nint)i * k;
            int j = 0;
            for (; j + Vector512<T>.Count <= k; j += Vector512<T>.Count) product += Vector512.Load(row + j) * Vector512<T>.Zero;
            for (; j < k; j++) scalar += row[j] * T.Zero;
        }
        // 0·x is 0 for finite x and NaN for ±∞ or NaN, and a NaN survives the sum.
        return T.IsFinite(scalar) && T.IsFinite(Vector512.Sum(product));
    }

    static void Gather<T>(T* source, int width, int* rows, int count, T* target) where T : unmanaged
    {
        for (int r = 0; r < count; r++)
            new ReadOnlySpan<T>(source + (nint)rows[r] * width, width).CopyTo(new Span<T>(target + (nint)r * width, width));
    }

    /// <summary>The computed rows back into dX (m, k); every other row becomes β·dX, what the dense GEMM stores for a zero row of dY (β·dX + 0: the same, a −0 aside).</summary>
    static void ScatterAndZero<T>(T* dx, int k, int m, int* rows, int count, T* computed, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int next = 0;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(dx + (nint)i * k, k);
            if (next < count && rows[next] == i)
            {
                new ReadOnlySpan<T>(computed + (nint)next * k, k).CopyTo(row);
                next++;
            }
            else if (beta == T.Zero) row.Clear();
            else if (beta != T.One) TensorPrimitives.Multiply(row, beta, row);   // (β·dX + 0 for β = 1 is dX, a −0 aside)
        }
    }

    static int[] Rows(int m)
    {
        if (t_rows is null || t_rows.Length < m) t_rows = GC.AllocateUninitializedArray<int>(m, pinned: true);
        return t_rows;
    }

    static T* Scratch<T>(long elements) where T : unmanaged
    {
        long bytes = checked(elements * sizeof(T));
        if (t_scratch is null || t_scratch.Length < bytes) t_scratch = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_scratch));
    }
}
