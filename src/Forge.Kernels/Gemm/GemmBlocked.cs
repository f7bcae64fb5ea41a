using System.Numerics;
using System.Runtime.CompilerServices;

namespace Forge.Kernels;

/// <summary>
/// The cache-blocked GEMM driver on one thread (the Goto/BLIS loop nest) around <see cref="GemmMicrokernel"/>:
/// <code>
/// for jc in n step NC:
///   for pc in k step KC:          pack the B panel (kc, nc) as slivers of (kc, NR)      (L2)
///     for ic in m step MC:        a block of A rows, read in place (or packed, see below)  (L2)
///       for jr in nc step NR:     one packed B sliver (kc, NR) stays in L1
///         for ir in mc step MR:   microkernel: C[ir.., jr..] (+)= A sliver · B sliver
/// </code>
/// A is read in place (both layouts work through the kernel's strides; packing measured slower), except a
/// transposed A whose rows are a page or more apart, packed block by block (<see cref="PacksA{T}"/>). Read in
/// place, the ragged last rows of a block are covered by a tile that overlaps the one above, and only a block
/// shorter than one tile is copied into a zero-padded sliver. The k blocks depend on k alone and
/// each element's sum runs p = 0, 1, … inside a block, so the result for an element never depends on
/// which sub-matrix of C a call covers: <see cref="GemmParallel"/> relies on that.
/// </summary>
static unsafe class GemmBlocked
{
    /// <summary>Deepest k block: a packed B sliver (KC, NR) is 32 KB, inside the 48 KB L1.</summary>
    const int KC = 256;

    /// <summary>
    /// Rows of A per block: 24 slivers. AVX-512: 24 · 14 rows · KC · 4 bytes = 336 KB of A, a third of the 1 MB L2
    /// of the Zen 4/5; AVX2: 24 · 6 rows = 144 KB, for the 512 KB L2 of a Zen 3.
    /// </summary>
    static int MC => 24 * GemmMicrokernel.Rows;

    /// <summary>
    /// Columns of a B panel: AVX-512 (KC, 512) floats = 512 KB, so panel and A block share the 1 MB L2; AVX2
    /// (KC, 256) = 256 KB, half of a Zen 3's L2. Blocking of n never changes a value (each element's k blocks do).
    /// </summary>
    static int NC => GemmSimd.Wide ? 512 : 256;

    /// <summary>
    /// The k blocks used for a depth of k: equal blocks of at most KC (k = 257 gives 129 + 128, not
    /// 256 + 1, so no pass over C does almost no work). A function of k only: part of the summation order.
    /// </summary>
    public static int KBlock(int k)
    {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C on the calling thread, for alpha ≠ 0, k ≥ 1. Arguments are already checked.
    /// A non-null <paramref name="bias"/> (n values; beta must be 0) is added to every row as the first k block is stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, T* bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int kcMax = KBlock(k);
        // Always the largest panel, so a thread allocates its buffer once, whatever shapes come later.
        T* packedB = GemmBuffers<T>.PackedB(KC * NC);
        var block = new Block<T>
        {
            TransA = transA, Lda = lda, PackedB = packedB, Ldc = ldc, Alpha = alpha,
            ARowStride = transA ? 1 : lda, AStepStride = transA ? lda : 1,
        };
        if (PacksA<T>(transA, lda))
            block.PackedA = GemmBuffers<T>.PackedA(GemmPacking.ASliverWidth * KC * (MC / GemmMicrokernel.Rows));
        for (int jc = 0; jc < n; jc += NC)
        {
            block.Nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                block.Kc = Math.Min(kcMax, k - pc);
                block.Beta = pc == 0 ? beta : T.One; // later k blocks accumulate onto the first
                block.Bias = pc == 0 && bias != null ? bias + jc : null;   // the bias goes in with the first
                T* bPanel = transB ? b + jc * ldb + pc : b + pc * ldb + jc;
                GemmPacking.PackB(transB, bPanel, ldb, block.Kc, block.Nc, packedB);
                for (int ic = 0; ic < m; ic += MC)
                {
                    block.Mc = Math.Min(MC, m - ic);
                    block.A = transA ? a + pc * lda + ic : a + ic * lda + pc;
                    block.C = c + ic * ldc + jc;
                    if (block.PackedA != null) PackABlock(ref block);
                    RowBlock(ref block);
                }
            }
        }
    }

    /// <summary>One (mc, kc) block of A against the packed (kc, nc) panel of B, updating (mc, nc) of C.</summary>
    struct Block<T> where T : unmanaged
    {
        public bool TransA;
        public T* A;          // op(A)[ic, pc]; element (i, p) at A[i·ARowStride + p·AStepStride]
        public nint ARowStride, AStepStride, Lda;
        public T* PackedB;    // (kc, nc) panel as slivers of (kc, NR)
        public T* C;          // C[ic, jc], row stride Ldc
        public nint Ldc;
        public int Mc, Nc, Kc;
        public T Alpha, Beta;
        public T* Bias;       // bias[jc] for the first k block (beta = 0), else null
        public T* PackedA;    // when not null: the (mc, kc) block of A packed as slivers of (kc, ASliverWidth)
    }

    /// <summary>
    /// Whether A is packed: only a transposed A whose rows lie a page or more apart. Read in place, such an A
    /// touches a new page at every step of k (a TLB miss each, and the lines fall into few L1 sets): packing made a
    /// 2,049 × 128 × 2,048 product with lda = 2,049 1.5–1.7× faster on the Xeon of issue 17, lda = 1,024 ≈ 1.15×.
    /// Every other layout is faster read in place (the packing copy costs more than it saves: 5–10 % slower with
    /// lda ≤ 300, as the models' weight gradients have). The bits are the same either way: each element's sum runs the
    /// same steps in the same order.
    /// </summary>
    static bool PacksA<T>(bool transA, nint lda) where T : unmanaged => transA && lda * sizeof(T) >= PageBytes;

    /// <summary>The smallest page size of x86-64 and of the TLB entries that the in-place reads miss.</summary>
    const int PageBytes = 4096;

    /// <summary>Packs the block's A rows, sliver by sliver (the last one zero-padded), into <see cref="Block{T}.PackedA"/>.</summary>
    static void PackABlock<T>(ref Block<T> block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = GemmMicrokernel.Rows;
        for (int row = 0, s = 0; row < block.Mc; row += mr, s++)
            GemmPacking.PackA(block.TransA, block.A + row * block.ARowStride, block.Lda, Math.Min(mr, block.Mc - row), block.Kc,
                block.PackedA + (nint)s * block.Kc * GemmPacking.ASliverWidth);
    }

    /// <summary>C block (mc, nc) (+)= A block (mc, kc) · packed B panel, tile by tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowBlock<T>(ref Block<T> block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = GemmMicrokernel.Columns<T>();
        var slivers = ASlivers(ref block);
        int rowSlivers = slivers.Count, columnSlivers = (block.Nc + nr - 1) / nr;
        // Column sliver by column sliver: one packed B sliver stays in L1 while the A slivers pass under it. But when C's
        // rows are a page or more apart each tile stores to 14 pages, and going down the block every tile would miss the
        // TLB 14 times; then row sliver by row sliver, so the tiles of one sliver run left to right over the same 14
        // pages while the B slivers come from L2. Either way each tile is the same computation.
        bool rowsOuter = block.Ldc * sizeof(T) >= PageBytes;
        int outer = rowsOuter ? rowSlivers : columnSlivers, inner = rowsOuter ? columnSlivers : rowSlivers;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                slivers.RunTile(ref block, rowsOuter ? o : i, (rowsOuter ? i : o) * nr);
    }

    /// <summary>
    /// The block's A as the microkernel reads it, sliver by sliver: in place through the block's strides, or packed
    /// (<see cref="Block{T}.PackedA"/>: slivers of (kc, <see cref="GemmPacking.ASliverWidth"/>), the ragged last one zero-padded); then the ragged last rows.
    /// </summary>
    static ASliverView<T> ASlivers<T>(ref Block<T> block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = GemmMicrokernel.Rows;
        int full = block.Mc / mr;
        if (block.PackedA == null)
            return new ASliverView<T>(block.A, block.ARowStride, block.AStepStride, mr * block.ARowStride, full, EdgeSliver(ref block));
        nint sliverStep = (nint)block.Kc * GemmPacking.ASliverWidth;
        int edgeRows = block.Mc % mr;
        var edge = edgeRows == 0 ? default
            : new Edge<T>(block.PackedA + full * sliverStep, edgeRows, 0, full * mr, 1, GemmPacking.ASliverWidth);
        return new ASliverView<T>(block.PackedA, 1, GemmPacking.ASliverWidth, sliverStep, full, edge);
    }

    /// <summary>Full slivers of <see cref="GemmMicrokernel.Rows"/> rows (sliver s at A + s·SliverStep, read with the two strides), then the edge, if any.</summary>
    readonly struct ASliverView<T>(T* a, nint rowStride, nint stepStride, nint sliverStep, int full, Edge<T> edge)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly T* _a = a;
        readonly nint _rowStride = rowStride, _stepStride = stepStride, _sliverStep = sliverStep;
        readonly int _full = full;
        readonly Edge<T> _edge = edge;

        /// <summary>Row slivers, the edge included.</summary>
        public int Count => _full + (_edge.Rows > 0 ? 1 : 0);

        /// <summary>The tile of row sliver <paramref name="s"/> (the edge when s = the full slivers' count) and the B sliver at column jr.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void RunTile(ref Block<T> block, int s, int jr)
        {
            int mr = GemmMicrokernel.Rows;
            T* bSliver = block.PackedB + (nint)jr * block.Kc;
            int cols = Math.Min(GemmMicrokernel.Columns<T>(), block.Nc - jr);
            T* bias = block.Bias == null ? null : block.Bias + jr;
            if (s < _full)
                GemmMicrokernel.Run(block.Kc, _a + s * _sliverStep, _rowStride, _stepStride, bSliver,
                    block.C + s * mr * block.Ldc + jr, block.Ldc, 0, mr, cols, block.Alpha, block.Beta, bias);
            else
                GemmMicrokernel.Run(block.Kc, _edge.A, _edge.RowStride, _edge.StepStride, bSliver,
                    block.C + _edge.FirstCRow * block.Ldc + jr, block.Ldc, _edge.FirstRow, _edge.Rows, cols, block.Alpha, block.Beta, bias);
        }
    }

    /// <summary>How the ragged last sliver of a row block is fed to the microkernel (Rows = 0: there is none).</summary>
    readonly struct Edge<T>(T* a, int rows, int firstRow, int firstCRow, nint rowStride, nint stepStride) where T : unmanaged
    {
        public readonly T* A = a;                     // tile row 0 of A, read with the strides below
        public readonly int Rows = rows;              // kernel rows, 7 or 14 (or fewer when packed)
        public readonly int FirstRow = firstRow;      // tile rows before this overlap the sliver above: not stored
        public readonly int FirstCRow = firstCRow;    // row of C (within the block) of tile row 0
        public readonly nint RowStride = rowStride, StepStride = stepStride;
    }

    /// <summary>
    /// The last mc mod MR rows (MR = 14 with AVX-512, 6 with AVX2). Usually the kernel (MR/2 or MR rows tall, whichever covers them) reads A
    /// in place over the rows just above as well, and only the new rows are stored; a block shorter
    /// than that kernel has no rows above to borrow, so its rows are packed with zero padding.
    /// </summary>
    static Edge<T> EdgeSliver<T>(ref Block<T> block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int edgeRows = block.Mc % GemmMicrokernel.Rows;
        if (edgeRows == 0) return default;
        int height = edgeRows <= GemmMicrokernel.HalfRows ? GemmMicrokernel.HalfRows : GemmMicrokernel.Rows;
        if (block.Mc >= height)
        {
            int top = block.Mc - height;
            return new Edge<T>(block.A + top * block.ARowStride, height, height - edgeRows, top, block.ARowStride, block.AStepStride);
        }
        T* packed = GemmBuffers<T>.PackedA(GemmPacking.ASliverWidth * KC);
        GemmPacking.PackA(block.TransA, block.A, block.Lda, edgeRows, block.Kc, packed);
        return new Edge<T>(packed, edgeRows, 0, 0, 1, GemmPacking.ASliverWidth);
    }
}
