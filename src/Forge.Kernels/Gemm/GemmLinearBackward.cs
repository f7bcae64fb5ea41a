using System.Numerics;
using System.Runtime.CompilerServices;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Both gradients of a linear layer y = x·op(W) in one pass over its rows (tokens):
/// <code>
/// dX = dY·op(W)ᵀ     (m, k)    rows of dY times the weight
/// dW = Xᵀ·dY          (k, n)    summed over all m rows
/// </code>
/// <para>
/// Why fuse: at the sizes these models train (sorting: m = 10,752 tokens, k = n = 96) both products are
/// memory-bound — dY and X are 4 MB each, larger than a core's L2 — and the two separate GEMMs each stream
/// dY from memory again (measured on the Xeon box: each GEMM twice as slow on cold data as on cached data).
/// Here the rows are cut into chunks of <see cref="GemmSplitK.ChunkDepth"/>; each chunk is one task that
/// computes its dW partial product and then its rows of dX while its slice of dY (384 KB) is still in
/// L2, so dY is read from memory once instead of twice.
/// </para>
/// <para>
/// Bits: the dW partials are exactly <see cref="GemmSplitK"/>'s (same chunks, same blocked kernel) and are
/// added in the same order, and a row block of dX is computed exactly as the whole-matrix GEMM computes
/// those rows; so the results equal <see cref="Gemm.Run{T}"/>'s two calls bit for bit, for any thread count.
/// That is why the fused path is taken only where the dW product would be split along k anyway
/// (<see cref="GemmSplitK.Applies"/>); elsewhere the two GEMMs run as before.
/// </para>
/// </summary>
static unsafe class GemmLinearBackward
{
    struct Job<T> where T : unmanaged
    {
        public int M, K, N;
        public bool TransW;
        public nint Ldw;
        public T BetaX, BetaW;
        public T* DY, X, W, DX, DW, Partials;
    }

    /// <summary>
    /// Largest m·k·n for which <see cref="RunSideBySide{T}"/> is taken: below it each product is a handful of
    /// <see cref="GemmParallel.MinFmasPerTask"/> tasks, so splitting each across the threads costs a
    /// fork-join and leaves the threads unevenly loaded (a 64 × 64 dW has too few tiles to split at all).
    /// </summary>
    public const long SideBySideMaxFmas = 16L << 20;

    /// <summary>
    /// True when dX and dW run as two single-threaded GEMMs at the same time, one per thread: two threads,
    /// blocked kernels for T, a dW that is not split along k, and small products. Both products have
    /// m·k·n multiply-adds, so the two threads are evenly loaded. (Retrieval's 1,408 × 64 × 64 projections.)
    /// </summary>
    public static bool RunsSideBySide<T>(int m, int k, int n) where T : unmanaged =>
        GemmSimd.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && ForkJoin.Threads == 2
        && !GemmSplitK.Applies(k, n, m) && (long)m * k * n <= SideBySideMaxFmas;

    /// <summary>
    /// dX and dW as in <see cref="Run{T}"/>, one task each (<see cref="RunsSideBySide{T}"/> holds). Each is the
    /// blocked kernel on the whole matrix, which is what the threaded GEMM computes tile by tile: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunSideBySide<T>(int m, int k, int n, T* dy, T* x, T* w, bool transW, nint ldw,
        T* dx, T betaX, T* dw, T betaW) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new Job<T> { M = m, K = k, N = n, TransW = transW, Ldw = ldw, BetaX = betaX, BetaW = betaW, DY = dy, X = x, W = w, DX = dx, DW = dw };
        ForkJoin.For(2, &job, &Product<T>);
    }

    /// <summary>ForkJoin body of <see cref="RunSideBySide{T}"/>: index 0 is dX, index 1 is dW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Product<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (Job<T>*)state;
        for (int i = begin; i < end; i++)
        {
            if (i == 0)
                GemmBlocked.Run(false, !job->TransW, job->M, job->K, job->N, T.One, job->DY, job->N, job->W, job->Ldw, job->BetaX, job->DX, job->K);
            else
                GemmBlocked.Run(true, false, job->K, job->N, job->M, T.One, job->X, job->K, job->DY, job->N, job->BetaW, job->DW, job->N);
        }
    }

    /// <summary>True when the fused pass applies: blocked kernels for T and a dW product that is split along k.</summary>
    public static bool Applies<T>(int m, int k, int n) where T : unmanaged =>
        GemmSimd.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && GemmSplitK.Applies(k, n, m);

    /// <summary>
    /// dX = dY·op(W)ᵀ + betaX·dX and dW = Xᵀ·dY + betaW·dW for dY (m, n), X (m, k) contiguous, op(W) (k, n)
    /// stored with leading dimension ldw (transposed: stored (n, k)); dX (m, k) and dW (k, n) contiguous.
    /// Arguments are checked by the caller and <see cref="Applies{T}"/> holds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int m, int k, int n, T* dy, T* x, T* w, bool transW, nint ldw,
        T* dx, T betaX, T* dw, T betaW) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (m + GemmSplitK.ChunkDepth - 1) / GemmSplitK.ChunkDepth;
        var job = new Job<T>
        {
            M = m, K = k, N = n, TransW = transW, Ldw = ldw, BetaX = betaX, DY = dy, X = x, W = w, DX = dx,
            Partials = GemmBuffers<T>.Partials(checked(chunks * k * n)),
        };
        ForkJoin.For(chunks, &job, &Chunk<T>);
        GemmSplitK.AddPartials(job.Partials, chunks, k, n, betaW, dw, n);
    }

    /// <summary>ForkJoin body: for each chunk of rows, its dW partial (GemmSplitK's chunk), then its rows of dX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Chunk<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (Job<T>*)state;
        int k = job->K, n = job->N;
        for (int i = begin; i < end; i++)
        {
            int row = i * GemmSplitK.ChunkDepth, rows = Math.Min(GemmSplitK.ChunkDepth, job->M - row);
            T* dy = job->DY + (nint)row * n;
            // partial_i (k, n) = X[rows]ᵀ · dY[rows]
            GemmBlocked.Run(true, false, k, n, rows, T.One, job->X + (nint)row * k, k, dy, n,
                T.Zero, job->Partials + (nint)i * k * n, n);
            // dX[rows] (rows, k) = dY[rows] · op(W)ᵀ (+ betaX·dX[rows]): dY's slice is still in this core's cache
            GemmBlocked.Run(false, !job->TransW, rows, k, n, T.One, dy, n, job->W, job->Ldw,
                job->BetaX, job->DX + (nint)row * k, k);
        }
    }
}
