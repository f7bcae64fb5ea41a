using System.Runtime.CompilerServices;
using System.Numerics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// The cache-blocked GEMM driver (Goto/BLIS loop nest) around <see cref="GemmMicrokernel"/>:
/// <code>
/// for jc in n step NC:            B panel (kc, nc) packed once, shared by all threads  (L2/L3)
///   for pc in k step KC:
///     for ic in m step MC:        rows split across threads by ForkJoin                  (A in L2)
///       for jr in nc step NR:     one packed B sliver (kc, NR) stays in L1
///         for ir in mc step 14:   microkernel: C[ir.., jr..] (+)= A sliver · B sliver
/// </code>
/// Full 14-row slivers of A are read in place (both layouts work through the kernel's strides); only
/// the ragged last sliver of a row block is packed, zero-padded. Each C element is summed by one
/// thread in a fixed order (k blocks in turn, p in turn inside a block) whatever the thread count.
/// </summary>
static unsafe class GemmBlocked
{
    /// <summary>Depth of a k block: a packed B sliver (KC, NR) is 32 KB, inside the 48 KB L1.</summary>
    const int KC = 256;

    /// <summary>Rows of A per block: 24 slivers · 14 rows · KC · 4 bytes = 336 KB of A, a third of the 1 MB L2.</summary>
    const int MC = 24 * GemmMicrokernel.Rows;

    /// <summary>Columns of a B panel: (KC, NC) floats = 2 MB, in the shared L3.</summary>
    const int NC = 2048;

    /// <summary>Below this many FMAs a block of rows is not worth handing to another thread (~1 µs of work).</summary>
    const long MinFmasPerTask = 1 << 18;

    struct Job<T> where T : unmanaged
    {
        public bool TransA;
        public T* A;          // op(A)[0, pc]: (m, kc) block, row stride / step stride below
        public nint ARowStride, AStepStride, Lda;
        public T* PackedB;    // (kc, nc) panel as slivers of (kc, NR)
        public T* C;          // C[0, jc], row stride Ldc
        public nint Ldc;
        public int M, Nc, Kc;
        public T Alpha, Beta;
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C for alpha ≠ 0, k ≥ 1. Arguments are already checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = GemmMicrokernel.Columns<T>();
        // Equal k blocks (k = 257 gives 129 + 128, not 256 + 1): fewer passes over C with tiny work.
        int kBlocks = (k + KC - 1) / KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int ncMax = Math.Min(NC, (n + nr - 1) / nr * nr);
        T* packedB = GemmBuffers<T>.PackedB(kcMax * ncMax);

        var job = new Job<T>
        {
            TransA = transA, Lda = lda, PackedB = packedB, Ldc = ldc, M = m, Alpha = alpha,
            ARowStride = transA ? 1 : lda, AStepStride = transA ? lda : 1,
        };
        for (int jc = 0; jc < n; jc += NC)
        {
            job.Nc = Math.Min(NC, n - jc);
            job.C = c + jc;
            for (int pc = 0; pc < k; pc += kcMax)
            {
                job.Kc = Math.Min(kcMax, k - pc);
                job.A = transA ? a + pc * lda : a + pc;
                job.Beta = pc == 0 ? beta : T.One; // later k blocks accumulate onto the first
                PackPanel(transB, transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, job.Kc, job.Nc, packedB);

                int slivers = (m + GemmMicrokernel.Rows - 1) / GemmMicrokernel.Rows;
                long fmasPerSliver = (long)GemmMicrokernel.Rows * job.Nc * job.Kc;
                int minSlivers = (int)Math.Min(int.MaxValue, Math.Max(1, MinFmasPerTask / fmasPerSliver));
                ForkJoin.For(slivers, &job, &RowSlivers<T>, minSlivers);
            }
        }
    }

    struct PackJob<T> where T : unmanaged
    {
        public bool TransB;
        public T* B;
        public nint Ldb;
        public int Kc, Nc;
        public T* Dest;
    }

    /// <summary>Packs the (kc, nc) panel of op(B), spreading slivers over threads when the panel is large.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackPanel<T>(bool transB, T* b, nint ldb, int kc, int nc, T* dest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = GemmMicrokernel.Columns<T>();
        int slivers = (nc + nr - 1) / nr;
        var job = new PackJob<T> { TransB = transB, B = b, Ldb = ldb, Kc = kc, Nc = nc, Dest = dest };
        // Packing moves ~1 element per cycle; below ~64K elements a second thread costs more than it saves.
        int minSlivers = Math.Max(1, (1 << 16) / (kc * nr));
        ForkJoin.For(slivers, &job, &PackSlivers<T>, minSlivers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackSlivers<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (PackJob<T>*)state;
        GemmPacking.PackB(job->TransB, job->B, job->Ldb, job->Kc, job->Nc, job->Dest, begin, end);
    }

    /// <summary>ForkJoin body: C rows of slivers [begin, end), in blocks of MC rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowSlivers<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = (Job<T>*)state;
        int rowEnd = Math.Min(end * GemmMicrokernel.Rows, job->M);
        for (int ic = begin * GemmMicrokernel.Rows; ic < rowEnd; ic += MC)
        {
            RowBlock(job, ic, Math.Min(MC, rowEnd - ic));
        }
    }

    /// <summary>C[ic .. ic+mc, 0..nc] (+)= A[ic .. ic+mc, :] · packed B panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowBlock<T>(Job<T>* job, int ic, int mc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int mr = GemmMicrokernel.Rows;
        int nr = GemmMicrokernel.Columns<T>();
        int kc = job->Kc, nc = job->Nc, fullSlivers = mc / mr, edgeRows = mc % mr;
        nint rowStride = job->ARowStride, stepStride = job->AStepStride, ldc = job->Ldc;
        T* aBlock = job->A + ic * rowStride;
        T* cBlock = job->C + ic * ldc;

        // The ragged last sliver cannot be read in place (its missing rows would be read), so pack it once.
        T* edge = null;
        if (edgeRows > 0)
        {
            edge = GemmBuffers<T>.PackedA(mr * kc);
            GemmPacking.PackA(job->TransA, aBlock + fullSlivers * mr * rowStride, job->Lda, edgeRows, kc, edge);
        }

        for (int jr = 0; jr < nc; jr += nr)
        {
            T* bSliver = job->PackedB + (nint)jr * kc;
            int cols = Math.Min(nr, nc - jr);
            for (int s = 0; s < fullSlivers; s++)
            {
                GemmMicrokernel.Run(kc, aBlock + s * mr * rowStride, rowStride, stepStride, bSliver,
                    cBlock + s * mr * ldc + jr, ldc, mr, cols, job->Alpha, job->Beta);
            }
            if (edge != null)
            {
                GemmMicrokernel.Run(kc, edge, 1, mr, bSliver,
                    cBlock + fullSlivers * mr * ldc + jr, ldc, edgeRows, cols, job->Alpha, job->Beta);
            }
        }
    }
}
