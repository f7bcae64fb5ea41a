using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// GEMMs with a small C and a long k — a weight gradient dW = Xᵀ·dY summed over every token of a batch
/// (sorting: 96 × 96 outputs over k = 10,752 tokens) — are split along k instead of along C.
/// <para>
/// Why: cutting a 96 × 96 C into a grid of sub-GEMMs (<see cref="GemmParallel"/>) makes every row block
/// re-read its columns of B and every column block its rows of A, all of k each time: 3× the traffic of one
/// pass over X and dY, on an operation that is memory-bound already. Here each k chunk is one task that
/// reads its slice of A and B once and writes an m × n partial product; the partials are then added in
/// chunk order. Total traffic: one pass over A and B plus chunks × m × n partials.
/// </para>
/// <para>
/// Determinism: the chunks depend on k alone (<see cref="ChunkDepth"/>), not on the thread count, and the
/// partials are summed in chunk order, so the result is bit-identical on 1 or N threads. It rounds
/// differently from an unsplit GEMM (k is summed in chunks of 1024, then across chunks), no less accurately.
/// </para>
/// </summary>
static unsafe class GemmSplitK
{
    /// <summary>Depth of one k chunk (a multiple of the blocked kernel's KC of 256).</summary>
    public const int ChunkDepth = 1024;

    /// <summary>Largest C (m·n elements) that is split along k: the partials stay a small fraction of A and B.</summary>
    public const long MaxOutputs = 1 << 16;

    /// <summary>True for the shapes this path takes: k of at least two chunks, C of at most <see cref="MaxOutputs"/> elements.</summary>
    public static bool Applies(int m, int n, int k) => k >= 2 * ChunkDepth && (long)m * n <= MaxOutputs;

    struct Job<T> where T : unmanaged
    {
        public bool TransA, TransB;
        public int M, N, K, Chunks;
        public T Alpha;
        public T* A, B, Partials;
        public nint Lda, Ldb;
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C through k chunks (alpha ≠ 0, k ≥ 1; see <see cref="Gemm.Run{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (k + ChunkDepth - 1) / ChunkDepth;
        long size = (long)m * n;
        var job = new Job<T>
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Chunks = chunks, Alpha = alpha,
            A = a, B = b, Lda = lda, Ldb = ldb, Partials = GemmBuffers<T>.Partials(checked((int)(chunks * size))),
        };
        ForkJoin.For(chunks, &job, &Chunk<T>);
        AddPartials(job.Partials, chunks, m, n, beta, c, ldc);
    }

    /// <summary>ForkJoin body: partial product i = alpha·op(A)[:, chunk i]·op(B)[chunk i, :], written (β = 0) to its slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Chunk<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (Job<T>*)state;
        for (int i = begin; i < end; i++)
        {
            int p = i * ChunkDepth, depth = Math.Min(ChunkDepth, job->K - p);
            T* a = job->TransA ? job->A + p * job->Lda : job->A + p;     // op(A)[0, p]
            T* b = job->TransB ? job->B + p : job->B + p * job->Ldb;     // op(B)[p, 0]
            GemmBlocked.Run(job->TransA, job->TransB, job->M, job->N, depth, job->Alpha, a, job->Lda, b, job->Ldb,
                T.Zero, job->Partials + (long)i * job->M * job->N, job->N);
        }
    }

    /// <summary>C = beta·C + Σ_i partial_i, the chunks added in order (beta == 0: C is not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddPartials<T>(T* partials, int chunks, int m, int n, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long size = (long)m * n;
        // Lanes never mix: the vector width changes the speed, not the bits (AVX2 machines take the 256-bit loop).
        bool wide = Vector512.IsHardwareAccelerated;
        int width = wide ? Vector512<T>.Count : Vector256<T>.Count;
        for (int row = 0; row < m; row++)
        {
            T* target = c + row * ldc;
            T* first = partials + (long)row * n;
            int j = 0;
            for (; wide && j + width <= n; j += width)
            {
                var sum = Vector512.Load(first + j);
                for (int i = 1; i < chunks; i++) sum += Vector512.Load(first + i * size + j);
                if (beta == T.Zero) sum.Store(target + j);
                else (Vector512.Load(target + j) * beta + sum).Store(target + j);
            }
            for (; !wide && j + width <= n; j += width)
            {
                var sum = Vector256.Load(first + j);
                for (int i = 1; i < chunks; i++) sum += Vector256.Load(first + i * size + j);
                if (beta == T.Zero) sum.Store(target + j);
                else (Vector256.Load(target + j) * beta + sum).Store(target + j);
            }
            for (; j < n; j++)
            {
                T sum = first[j];
                for (int i = 1; i < chunks; i++) sum += first[i * size + j];
                target[j] = beta == T.Zero ? sum : target[j] * beta + sum;
            }
        }
    }
}
