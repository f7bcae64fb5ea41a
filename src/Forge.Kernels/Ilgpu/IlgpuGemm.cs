using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// GEMM on an ILGPU device, with exactly the contract of <see cref="Gemm"/> (row-major,
/// C = alpha·op(A)·op(B) + beta·C, leading dimensions, beta = 0 never reads C, batched with element
/// strides where 0 reuses one matrix). Kernels: <see cref="GemmKernels"/>; every (m, n) tile of
/// every batch entry is one group, so a batch is one launch.
/// <para>
/// Split-k: a product with few tiles and a long k (a weight gradient Xᵀ·dY sums over every token of
/// the batch: 64 × 64 outputs, k = 10,000) would leave most of a GPU idle while a handful of groups
/// walk k. Such a product is cut into k ranges, one group per (tile, range), whose partial products
/// go to a pooled workspace; a second kernel adds them in range order and applies alpha and beta.
/// The split depends only on the shape and the device, so results are reproducible on a device.
/// </para>
/// </summary>
public static class IlgpuGemm
{
    /// <summary>Most batch entries per launch (CUDA's limit on the grid's z dimension).</summary>
    const int MaxBatchPerLaunch = 65535;

    /// <summary>C = alpha·op(A)·op(B) + beta·C on the device. See <see cref="Gemm.Run{T}"/> for the argument meanings.</summary>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is shorter than a row, or a view is too short.</exception>
    public static void Run<T>(IlgpuBackend backend, bool transA, bool transB, int m, int n, int k, T alpha,
        ArrayView1D<T, Stride1D.Dense> a, int lda, ArrayView1D<T, Stride1D.Dense> b, int ldb,
        T beta, ArrayView1D<T, Stride1D.Dense> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Check(transA, transB, m, n, k, Views.Length(a), lda, Views.Length(b), ldb, Views.Length(c), ldc);
        Launch(backend, transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, batch: 1);
    }

    /// <summary>
    /// C = alpha·op(A)·op(B) + bias, the bias row (n values) added to every row of C as it is stored (no copy
    /// of the bias into C first, no extra launch). See <see cref="Gemm.RunWithBias{T}"/>.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Run{T}"/>, or the bias is shorter than n.</exception>
    public static void RunWithBias<T>(IlgpuBackend backend, bool transA, bool transB, int m, int n, int k, T alpha,
        ArrayView1D<T, Stride1D.Dense> a, int lda, ArrayView1D<T, Stride1D.Dense> b, int ldb,
        ArrayView1D<T, Stride1D.Dense> bias, ArrayView1D<T, Stride1D.Dense> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Check(transA, transB, m, n, k, Views.Length(a), lda, Views.Length(b), ldb, Views.Length(c), ldc);
        if (bias.Length < n) throw new ArgumentException($"IlgpuGemm.RunWithBias: bias has {bias.Length} values, n = {n}.", nameof(bias));
        if (n == 0) return;
        Launch(backend, transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, T.Zero, c, ldc, 0, batch: 1, bias.SubView(0, n));
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs; matrix i of A, B and C starts at i·strideA, i·strideB,
    /// i·strideC. See <see cref="Gemm.RunBatched{T}"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A size or stride is negative, a leading dimension is shorter than a row, or a view is too short.</exception>
    public static void RunBatched<T>(IlgpuBackend backend, bool transA, bool transB, int m, int n, int k, T alpha,
        ArrayView1D<T, Stride1D.Dense> a, int lda, long strideA, ArrayView1D<T, Stride1D.Dense> b, int ldb, long strideB,
        T beta, ArrayView1D<T, Stride1D.Dense> c, int ldc, long strideC, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.CheckBatched(transA, transB, m, n, k, Views.Length(a), lda, strideA, Views.Length(b), ldb, strideB,
            Views.Length(c), ldc, strideC, batch);
        Launch(backend, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    }

    static void Launch<T>(IlgpuBackend backend, bool transA, bool transB, int m, int n, int k, T alpha,
        ArrayView1D<T, Stride1D.Dense> a, int lda, long strideA, ArrayView1D<T, Stride1D.Dense> b, int ldb, long strideB,
        T beta, ArrayView1D<T, Stride1D.Dense> c, int ldc, long strideC, int batch, ArrayView1D<T, Stride1D.Dense> bias = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, "IlgpuGemm");
        if (batch == 0 || m == 0 || n == 0) return;
        bool onlyScale = k == 0 || alpha == T.Zero;
        if (onlyScale && beta == T.One && bias.Length == 0) return;
        var kernels = backend.Kernels<Kernels<T>>();
        var args = new GemmArgs<T>
        {
            A = a, B = b, C = c, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0, M = m, N = n, K = k,
            Lda = lda, Ldb = ldb, Ldc = ldc, StrideA = strideA, StrideB = strideB, StrideC = strideC,
            Alpha = alpha, Beta = beta, BetaIsZero = beta == T.Zero ? 1 : 0, Bias = bias,
        };
        // The wide float kernel (opt-in, see IlgpuBackend.WideGemm) or the tiled one.
        bool wide = typeof(T) == typeof(float) && backend.WideGemm;
        int block = wide ? GemmWideKernels.Block : kernels.Block, threads = wide ? GemmWideKernels.Threads : kernels.Threads;
        int sliceDepth = wide ? GemmWideKernels.Depth : threads;
        var tiled = wide ? kernels.Wide! : kernels.Tiled;
        int columnBlocks = Views.GroupsFor(n, block), rowBlocks = Views.GroupsFor(m, block);
        (args.Splits, args.KChunk) = onlyScale ? (1, k) : SplitK((long)columnBlocks * rowBlocks * batch, k, sliceDepth, backend.ParallelGroups);
        int perLaunch = MaxBatchPerLaunch / args.Splits;
        for (int first = 0; first < batch; first += perLaunch)
        {
            int count = Math.Min(perLaunch, batch - first);
            args.BatchOffset = first;
            long elements = (long)count * m * n;
            if (onlyScale)
            {
                if (elements > int.MaxValue) throw new NotSupportedException($"IlgpuGemm: {elements} elements of C in one scaling launch.");
                kernels.ScaleC(backend.Stream, (int)elements, args);
                continue;
            }
            var grid = new Index3D(columnBlocks, rowBlocks, count * args.Splits);
            if (args.Splits == 1)
            {
                tiled(backend.Stream, new KernelConfig(grid, new Index3D(threads, threads, 1)), args);
                continue;
            }
            var partials = backend.Pool.Rent<T>(elements * args.Splits);
            args.Partials = partials.View;
            tiled(backend.Stream, new KernelConfig(grid, new Index3D(threads, threads, 1)), args);
            kernels.SumSplits(backend.Stream, checked((int)elements), args);
            backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
        }
    }

    /// <summary>
    /// How many k ranges (and how long each, a multiple of the k-slice depth) a product with
    /// <paramref name="tiles"/> groups and depth <paramref name="k"/> is cut into: enough ranges to give
    /// the device <paramref name="parallelGroups"/> groups, each range at least 8 slices long; (1, k)
    /// when the tiles alone fill the device or k is short.
    /// </summary>
    internal static (int Splits, int KChunk) SplitK(long tiles, int k, int sliceDepth, int parallelGroups)
    {
        var (splits, chunk) = Views.SplitLoop(tiles, k, parallelGroups, minChunk: 8 * sliceDepth);
        if (splits == 1) return (1, k);
        chunk = (chunk + sliceDepth - 1) / sliceDepth * sliceDepth;
        return ((k + chunk - 1) / chunk, chunk);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, GemmArgs<T>> Tiled;
        /// <summary>The wide float kernel (<see cref="GemmWideKernels"/>) when T is float and the device's groups hold 256 threads, else null.</summary>
        public Action<AcceleratorStream, KernelConfig, GemmArgs<T>>? Wide;
        public required Action<AcceleratorStream, Index1D, GemmArgs<T>> ScaleC, SumSplits;
        public required int Threads, Block;

        public static Kernels<T> Load(IlgpuBackend backend)
        {
            var tiling = backend.SmallGemmTiles ? typeof(EmulatorGemmTiling) : typeof(GpuGemmTiling);
            int threads = backend.SmallGemmTiles ? default(EmulatorGemmTiling).Threads : default(GpuGemmTiling).Threads;
            return new Kernels<T>
            {
                Tiled = KernelMethods.Grouped<T, GemmArgs<T>>(backend, typeof(GemmKernels), nameof(GemmKernels.Tiled), tiling),
                ScaleC = KernelMethods.Indexed<T, GemmArgs<T>>(backend, typeof(GemmKernels), nameof(GemmKernels.ScaleC)),
                SumSplits = KernelMethods.Indexed<T, GemmArgs<T>>(backend, typeof(GemmKernels), nameof(GemmKernels.SumSplits)),
                Threads = threads,
                Block = threads * GemmKernels.Micro,
                Wide = typeof(T) == typeof(float) && backend.Accelerator.MaxNumThreadsPerGroup >= GemmWideKernels.Threads * GemmWideKernels.Threads
                    ? (Action<AcceleratorStream, KernelConfig, GemmArgs<T>>)(object)KernelMethods.Counted(backend, "GemmWideKernels.Tiled",
                        KernelLoaders.LoadKernel(backend.Accelerator, (Action<GemmArgs<float>>)GemmWideKernels.Tiled))
                    : null,
            };
        }
    }
}
