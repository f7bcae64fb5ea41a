using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// GEMM on an ILGPU device, with exactly the contract of <see cref="Gemm"/> (row-major,
/// C = alpha·op(A)·op(B) + beta·C, leading dimensions, beta = 0 never reads C, batched with element
/// strides where 0 reuses one matrix). Kernels: <see cref="GemmKernels"/>; every (m, n) tile of
/// every batch entry is one group, so a batch is one launch.
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
        T beta, ArrayView1D<T, Stride1D.Dense> c, int ldc, long strideC, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, "IlgpuGemm");
        if (batch == 0 || m == 0 || n == 0) return;
        bool onlyScale = k == 0 || alpha == T.Zero;
        if (onlyScale && beta == T.One) return;
        var kernels = backend.Kernels<Kernels<T>>();
        var args = new GemmArgs<T>
        {
            A = a, B = b, C = c, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0, M = m, N = n, K = k,
            Lda = lda, Ldb = ldb, Ldc = ldc, StrideA = strideA, StrideB = strideB, StrideC = strideC,
            Alpha = alpha, Beta = beta, BetaIsZero = beta == T.Zero ? 1 : 0,
        };
        int block = kernels.Block, threads = kernels.Threads;
        int columnBlocks = Views.GroupsFor(n, block), rowBlocks = Views.GroupsFor(m, block);
        for (int first = 0; first < batch; first += MaxBatchPerLaunch)
        {
            int count = Math.Min(MaxBatchPerLaunch, batch - first);
            args.BatchOffset = first;
            if (onlyScale)
            {
                long elements = (long)count * m * n;
                if (elements > int.MaxValue) throw new NotSupportedException($"IlgpuGemm: {elements} elements of C in one scaling launch.");
                kernels.ScaleC(backend.Stream, (int)elements, args);
            }
            else
            {
                kernels.Tiled(backend.Stream, new KernelConfig(new Index3D(columnBlocks, rowBlocks, count), new Index3D(threads, threads, 1)), args);
            }
        }
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, GemmArgs<T>> Tiled;
        public required Action<AcceleratorStream, Index1D, GemmArgs<T>> ScaleC;
        public required int Threads, Block;

        public static Kernels<T> Load(IlgpuBackend backend)
        {
            var tiling = backend.SmallGemmTiles ? typeof(EmulatorGemmTiling) : typeof(GpuGemmTiling);
            int threads = backend.SmallGemmTiles ? default(EmulatorGemmTiling).Threads : default(GpuGemmTiling).Threads;
            var accelerator = backend.Accelerator;
            return new Kernels<T>
            {
                Tiled = accelerator.LoadKernel(
                    KernelMethods.Get<T, Action<GemmArgs<T>>>(typeof(GemmKernels), nameof(GemmKernels.Tiled), tiling)),
                ScaleC = accelerator.LoadAutoGroupedKernel(
                    KernelMethods.Get<T, Action<Index1D, GemmArgs<T>>>(typeof(GemmKernels), nameof(GemmKernels.ScaleC))),
                Threads = threads,
                Block = threads * GemmKernels.Micro,
            };
        }
    }
}
