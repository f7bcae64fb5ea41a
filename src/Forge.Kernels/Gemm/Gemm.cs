using System.Runtime.CompilerServices;
using System.Numerics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// General matrix multiply, row-major: C = alpha · op(A)·op(B) + beta · C, where op(X) is X or Xᵀ.
/// This is where nearly all of a transformer's time goes (every linear layer, attention scores and
/// mixing, and their gradients), so float and double run on a register-blocked (AVX-512 or AVX2), cache-blocked
/// kernel (<see cref="GemmBlocked"/>), multithreaded by splitting C into sub-matrices (<see cref="GemmParallel"/>).
/// Results are bit-identical for any <see cref="ForkJoin.Threads"/>: threads only decide who
/// computes a tile, never the order of a sum.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>
    /// C = alpha · op(A)·op(B) + beta · C. op(A) is (m, k), op(B) is (k, n), C is (m, n).
    /// A is stored (m, k) with row stride <paramref name="lda"/> when !<paramref name="transA"/>,
    /// else stored (k, m) with row stride lda; likewise B. beta == 0 overwrites C (its old contents,
    /// even NaN, are never read); alpha == 0 or k == 0 leaves beta · C without reading A or B.
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is shorter than a row, or a span is too short.</exception>
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (T* aPtr = a, bPtr = b, cPtr = c)
        {
            RunChecked(transA, transB, m, n, k, alpha, aPtr, lda, bPtr, ldb, beta, cPtr, ldc, split: true);
        }
    }

    /// <summary>
    /// C = alpha · op(A)·op(B) + bias, the bias row (n values) added to every row of C: a linear layer's
    /// forward pass. The bias goes in as C is stored, not in a pass of its own; the result is bit-identical
    /// to writing the bias rows into C and calling <see cref="Run{T}"/> with beta = 1 (C's old contents are never read).
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Run{T}"/>, or the bias is shorter than n.</exception>
    public static void RunWithBias<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (bias.Length < n) throw new ArgumentException($"Gemm.RunWithBias: bias has {bias.Length} values, n = {n}.", nameof(bias));
        fixed (T* aPtr = a, bPtr = b, cPtr = c, biasPtr = bias)
        {
            RunChecked(transA, transB, m, n, k, alpha, aPtr, lda, bPtr, ldb, T.Zero, cPtr, ldc, split: true, biasPtr);
        }
    }

    /// <summary>
    /// Y = X·op(W) + bias on the rows whose entry in <paramref name="needed"/> is not 0, the other rows of Y set to 0:
    /// a linear layer of which only some tokens' outputs are read (a masked loss's positions; see
    /// <see cref="GemmRowSubset"/>). X (m, k) and Y (m, n) are contiguous; op(W) is (k, n), stored (n, k) when
    /// <paramref name="transW"/>. Each computed row has the bits <see cref="RunWithBias{T}"/> gives it.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="RunWithBias{T}"/>, or <paramref name="needed"/> is shorter than m.</exception>
    public static void LinearForwardOnRows<T>(int m, int n, int k, ReadOnlySpan<T> x, ReadOnlySpan<T> w, bool transW, int ldw,
        ReadOnlySpan<T> bias, Span<T> y, ReadOnlySpan<T> needed) where T : unmanaged, IFloatingPointIeee754<T> =>
        GemmRowSubset.LinearForward(m, n, k, x, w, transW, ldw, bias, y, needed);

    /// <summary>
    /// The two gradients of a linear layer Y = X·op(W) (X (m, k), op(W) (k, n), dY (m, n)):
    /// dX = dY·op(W)ᵀ + betaX·dX (m, k) and dW = Xᵀ·dY + betaW·dW (k, n), either skipped when its span is
    /// empty. W is stored (k, n), or (n, k) when <paramref name="transW"/>, with leading dimension ldw.
    /// Where the weight gradient is split along k (many rows, a small W) both run in one pass over the rows
    /// (<see cref="GemmLinearBackward"/>); where both are small on two threads they run side by side, one
    /// thread each; where at least a quarter of dY's rows are zero (the positions a masked loss ignores) only
    /// the other rows are multiplied (<see cref="GemmRowSubset"/>); the bits are those of the two separate GEMMs
    /// every way (a zero's sign aside).
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is short, or a span is too short.</exception>
    public static void LinearBackward<T>(int m, int k, int n, ReadOnlySpan<T> dy, ReadOnlySpan<T> x,
        ReadOnlySpan<T> w, bool transW, int ldw, Span<T> dx, T betaX, Span<T> dw, T betaW)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.IsEmpty) GemmArguments.Check(false, !transW, m, k, n, dy.Length, n, w.Length, ldw, dx.Length, k);
        if (!dw.IsEmpty) GemmArguments.Check(true, false, k, n, m, x.Length, k, dy.Length, n, dw.Length, n);
        if (m > 0 && k > 0 && n > 0 && !(dx.IsEmpty && dw.IsEmpty))
        {
            // A masked loss's ignored positions: their rows of dY are zero and are not multiplied (same bits).
            fixed (T* dyPtr = dy, xPtr = x, wPtr = w, dxPtr = dx, dwPtr = dw)
            {
                if (GemmRowSubset.TryLinearBackward(m, k, n, dyPtr, xPtr, wPtr, transW, ldw, dx.IsEmpty ? null : dxPtr, betaX, dw.IsEmpty ? null : dwPtr, betaW))
                    return;
            }
        }
        bool both = !dx.IsEmpty && !dw.IsEmpty && m > 0 && k > 0 && n > 0;
        bool fused = both && GemmLinearBackward.Applies<T>(m, k, n);
        if (fused || (both && GemmLinearBackward.RunsSideBySide<T>(m, k, n)))
        {
            fixed (T* dyPtr = dy, xPtr = x, wPtr = w, dxPtr = dx, dwPtr = dw)
            {
                if (fused) GemmLinearBackward.Run(m, k, n, dyPtr, xPtr, wPtr, transW, ldw, dxPtr, betaX, dwPtr, betaW);
                else GemmLinearBackward.RunSideBySide(m, k, n, dyPtr, xPtr, wPtr, transW, ldw, dxPtr, betaX, dwPtr, betaW);
            }
            return;
        }
        if (!dx.IsEmpty) Run(false, !transW, m, k, n, T.One, dy, n, w, ldw, betaX, dx, k);
        if (!dw.IsEmpty) Run(true, false, k, n, m, T.One, x, k, dy, n, betaW, dw, n);
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs with the shapes of <see cref="Run{T}"/>: matrix i of
    /// A, B and C starts at i·strideA, i·strideB, i·strideC (a stride of 0 reuses one matrix for all).
    /// Many or small matrices are spread over threads one whole matrix each; a few large ones are each
    /// split across the threads in turn. Writing the same C from several batch entries (strideC = 0
    /// with batch > 1) is undefined.
    /// </summary>
    /// <exception cref="ArgumentException">A size or stride is negative, a leading dimension is shorter than a row, or a span is too short.</exception>
    public static void RunBatched<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, long strideA, ReadOnlySpan<T> b, int ldb, long strideB,
        T beta, Span<T> c, int ldc, long strideC, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.CheckBatched(transA, transB, m, n, k, a.Length, lda, strideA, b.Length, ldb, strideB,
            c.Length, ldc, strideC, batch);
        if (batch == 0 || m == 0 || n == 0) return;
        fixed (T* aPtr = a, bPtr = b, cPtr = c)
        {
            var job = new BatchJob<T>
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                A = aPtr, Lda = lda, StrideA = strideA, B = bPtr, Ldb = ldb, StrideB = strideB,
                C = cPtr, Ldc = ldc, StrideC = strideC,
            };
            // Whole matrices per thread need no fork-join per matrix and no repacking, so that is the
            // split whenever there are enough of them (or they are too small to split anyway).
            long fmas = (long)m * n * k;
            job.SplitEach = batch < 2 * ForkJoin.Threads && fmas >= 2 * GemmParallel.MinFmasPerTask;
            int minMatrices = job.SplitEach ? batch : (int)Math.Max(1, GemmParallel.MinFmasPerTask / Math.Max(1, fmas));
            ForkJoin.For(batch, &job, &BatchBody<T>, minMatrices);
        }
    }

    struct BatchJob<T> where T : unmanaged
    {
        public bool TransA, TransB;
        public int M, N, K;
        public T Alpha, Beta;
        public T* A, B, C;
        public int Lda, Ldb, Ldc;
        public long StrideA, StrideB, StrideC;
        public bool SplitEach;  // matrices run one after another, each split over the threads
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void BatchBody<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (BatchJob<T>*)state;
        for (int i = begin; i < end; i++)
        {
            RunChecked(job->TransA, job->TransB, job->M, job->N, job->K, job->Alpha,
                job->A + i * job->StrideA, job->Lda, job->B + i * job->StrideB, job->Ldb,
                job->Beta, job->C + i * job->StrideC, job->Ldc, job->SplitEach);
        }
    }

    /// <summary>
    /// Dispatch after argument checks: trivial cases, then the blocked kernels (AVX-512 or AVX2; split over threads when
    /// <paramref name="split"/>, else on this thread alone) or the portable fallback. A non-null
    /// <paramref name="bias"/> (with beta = 0) goes into the microkernel's store where it can; elsewhere
    /// its rows are written into C first and the product added with beta = 1 — the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunChecked<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, int lda, T* b, int ldb, T beta, T* c, int ldc, bool split, T* bias = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        bool fusedBias = bias != null && GemmSimd.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && k > 0 && alpha != T.Zero && !GemmSplitK.Applies(m, n, k);
        if (bias != null && !fusedBias)
        {
            FillRows(m, n, bias, c, ldc);
            beta = T.One;
            bias = null;
        }
        if (k == 0 || alpha == T.Zero)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        if (GemmSimd.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Small C, long k (weight gradients): split along k. Decided by the shape alone — not by the
            // thread count or split — so every thread count gives the same bits.
            if (GemmSplitK.Applies(m, n, k)) GemmSplitK.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            else if (split) GemmParallel.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
            else GemmBlocked.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
            return;
        }
        // Neither AVX-512 nor AVX2 + FMA (or an unusual T): correct but slow.
        var aSpan = new ReadOnlySpan<T>(a, (int)GemmArguments.Extent(transA, m, k, lda));
        var bSpan = new ReadOnlySpan<T>(b, (int)GemmArguments.Extent(transB, k, n, ldb));
        var cSpan = new Span<T>(c, (int)GemmArguments.Extent(false, m, n, ldc));
        GemmReference.Run(transA, transB, m, n, k, alpha, aSpan, lda, bSpan, ldb, beta, cSpan, ldc);
    }

    /// <summary>Every row of C (m, n) = the bias row.</summary>
    static void FillRows<T>(int m, int n, T* bias, T* c, int ldc) where T : unmanaged
    {
        var row = new ReadOnlySpan<T>(bias, n);
        for (int i = 0; i < m; i++) row.CopyTo(new Span<T>(c + (nint)i * ldc, n));
    }

    /// <summary>C = beta · C, with beta == 0 writing zeros without reading C.</summary>
    static void ScaleC<T>(int m, int n, T beta, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (nint)i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) foreach (ref T x in row) x *= beta;
        }
    }
}
