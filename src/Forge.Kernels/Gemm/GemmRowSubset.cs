using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Forge.Kernels;

/// <summary>
/// A linear layer on some of its rows (tokens) only: the rows a masked loss scores. The sorting task scores
/// 10 of its 21 positions, so without this half of the last layers' work went into rows nobody reads.
/// <list type="bullet">
/// <item><b>Forward</b> (<see cref="LinearForward{T}"/>): the caller names the rows it needs (a non-zero
/// weight, e.g. the loss mask); only those rows of X are multiplied, the others of Y are 0. Each computed row
/// is the dense GEMM's row bit for bit (a row of C never depends on the others).</item>
/// <item><b>Backward</b> (<see cref="TryLinearBackward{T}"/>, found by itself): rows of dY that are zero — what a
/// masked loss gives the positions it ignores — are not multiplied. Bits: the dense GEMMs' (a zero's sign
/// aside). A zero row of dY gives a row of dX that is exactly β·dX + 0. In dW = Xᵀ·dY each element is a chain
/// of multiply-adds over the rows, cut into the k blocks of <see cref="GemmBlocked.KBlock"/> (a function of m,
/// the depth), each block's sum stored onto the blocks before it; a zero row adds an exact zero to its block's
/// chain. So the rows are gathered block by block — the blocks the dense GEMM uses for all m rows — and each
/// block's non-zero rows run as one product stored onto the blocks before it: every element sees the same
/// additions in the same order. A skipped row whose X holds an infinity or NaN would have made the dense dW
/// NaN (0·∞); then the dense path runs instead, so that still shows. Taken where dW is not split along k
/// (<see cref="GemmSplitK"/>; those chunks are another order).</item>
/// </list>
/// Both gather the rows into a contiguous copy, run the dense kernels on it and scatter back, and only where
/// at least a quarter of the rows drop out (fewer, and the copies cost more than they save). Scratch is per
/// thread and grows once; steady state allocates nothing.
/// </summary>
static unsafe class GemmRowSubset
{
    /// <summary>Fewer rows dropped than m / MinDroppedFraction: the gather and scatter would cost more than they save.</summary>
    const int MinDroppedFraction = 4;

    [ThreadStatic] static int[]? t_rows;
    [ThreadStatic] static byte[]? t_scratch;

    /// <summary>
    /// dX = dY·op(W)ᵀ + betaX·dX and dW = Xᵀ·dY + betaW·dW as <see cref="Gemm.LinearBackward{T}"/> (dx or dw null:
    /// not computed) when enough rows of dY are zero; returns false, having written nothing, when it does
    /// not apply. Arguments are already checked; m, k, n ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryLinearBackward<T>(int m, int k, int n, T* dy, T* x, T* w, bool transW, int ldw,
        T* dx, T betaX, T* dw, T betaW) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!GemmSimd.IsSupported || (typeof(T) != typeof(float) && typeof(T) != typeof(double))) return false;
        if (dw != null && GemmSplitK.Applies(k, n, m)) return false;
        var rowBuffer = Rows(m);
        fixed (int* nonZero = rowBuffer)
        {
            int count = NonZeroRows(m, n, dy, nonZero);
            if (m - count < m / MinDroppedFraction || m - count == 0) return false;
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

    /// <summary>
    /// Y = X·op(W) + bias on the rows whose entry in <paramref name="needed"/> (m values) is not 0; the other rows
    /// of Y are 0. X (m, k) and Y (m, n) are contiguous, op(W) is (k, n) stored with leading dimension ldw. Each
    /// computed row has the bits <see cref="Gemm.RunWithBias{T}"/> gives it.
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative or a span is too short (as RunWithBias), or needed is shorter than m.</exception>
    public static void LinearForward<T>(int m, int n, int k, ReadOnlySpan<T> x, ReadOnlySpan<T> w, bool transW, int ldw,
        ReadOnlySpan<T> bias, Span<T> y, ReadOnlySpan<T> needed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (needed.Length < m) throw new ArgumentException($"Gemm.LinearForwardOnRows: {needed.Length} row weights for m = {m} rows.", nameof(needed));
        GemmArguments.Check(false, transW, m, n, k, x.Length, k, w.Length, ldw, y.Length, n);
        if (m == 0 || n == 0) return;
        var rowBuffer = Rows(m);
        int count = 0;
        for (int i = 0; i < m; i++)
            if (needed[i] != T.Zero) rowBuffer[count++] = i;
        if (m - count < m / MinDroppedFraction)
        {
            Gemm.RunWithBias(false, transW, m, n, k, T.One, x, k, w, ldw, bias, y, n);
            for (int i = 0; i < m; i++)
                if (needed[i] == T.Zero) y.Slice(i * n, n).Clear();
            return;
        }
        fixed (T* px = x, py = y)
        fixed (int* rows = rowBuffer)
        {
            T* xRows = Scratch<T>((long)count * (k + n)), yRows = xRows + (nint)count * k;
            Gather(px, k, rows, count, xRows);
            Gemm.RunWithBias(false, transW, count, n, k, T.One, new ReadOnlySpan<T>(xRows, count * k), k, w, ldw, bias,
                new Span<T>(yRows, count * n), n);
            ScatterAndZero(py, n, m, rows, count, yRows, T.Zero);
        }
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
        for (; j + Vector256<T>.Count <= n; j += Vector256<T>.Count)
            if (!Vector256.EqualsAll(Vector256.Load(row + j), Vector256<T>.Zero)) return false;   // −0 == 0; NaN ≠ 0
        for (; j < n; j++)
            if (row[j] != T.Zero) return false;
        return true;
    }

    /// <summary>True when every row of X (m, k) that is not in rows is finite (0 times it is an exact 0).</summary>
    static bool SkippedRowsFinite<T>(int m, int k, T* x, int* rows, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var product = Vector256<T>.Zero;
        T scalar = T.Zero;
        int next = 0;
        for (int i = 0; i < m; i++)
        {
            if (next < count && rows[next] == i) { next++; continue; }
            T* row = x + (nint)i * k;
            int j = 0;
            for (; j + Vector256<T>.Count <= k; j += Vector256<T>.Count) product += Vector256.Load(row + j) * Vector256<T>.Zero;
            for (; j < k; j++) scalar += row[j] * T.Zero;
        }
        // 0·x is 0 for finite x and NaN for ±∞ or NaN, and a NaN survives the sum.
        return T.IsFinite(scalar) && T.IsFinite(Vector256.Sum(product));
    }

    static void Gather<T>(T* source, int width, int* rows, int count, T* target) where T : unmanaged
    {
        for (int r = 0; r < count; r++)
            new ReadOnlySpan<T>(source + (nint)rows[r] * width, width).CopyTo(new Span<T>(target + (nint)r * width, width));
    }

    /// <summary>The computed rows back into C (m, width); every other row becomes β·C — for dX, what the dense GEMM stores for a zero row of dY (β·dX + 0: the same, a −0 aside).</summary>
    static void ScatterAndZero<T>(T* c, int width, int m, int* rows, int count, T* computed, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int next = 0;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (nint)i * width, width);
            if (next < count && rows[next] == i)
            {
                new ReadOnlySpan<T>(computed + (nint)next * width, width).CopyTo(row);
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
