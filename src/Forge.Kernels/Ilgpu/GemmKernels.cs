using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>Arguments of the GEMM kernels: C = alpha·op(A)·op(B) + beta·C for matrices batchOffset + Grid.IdxZ.</summary>
internal struct GemmArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> A, B, C;
    public int TransA, TransB, M, N, K, Lda, Ldb, Ldc, BetaIsZero, BatchOffset;
    public long StrideA, StrideB, StrideC;
    public T Alpha, Beta;
}

/// <summary>
/// Device code of <see cref="IlgpuGemm"/>. The tiled kernel is the classic shared-memory GEMM with
/// register blocking: each group stages a (block × Threads) slice of op(A) and a (Threads × block)
/// slice of op(B) in shared memory, then every thread accumulates its Micro × Micro outputs from
/// them. The transposes only change how a slice is read from global memory: consecutive threads
/// always read consecutive addresses (coalesced), and the shared tiles are stored k-major with one
/// padding element per row so the transposed stores do not collide on a bank.
/// </summary>
internal static class GemmKernels
{
    /// <summary>One group per (column block, row block, batch entry) of C; groups of Threads × Threads.</summary>
    internal static void Tiled<T, TTiling>(GemmArgs<T> g)
        where T : unmanaged, IFloatingPointIeee754<T> where TTiling : struct, IGemmTiling
    {
        int threads = default(TTiling).Threads, micro = default(TTiling).Micro;
        int block = threads * micro;   // rows and columns of C per group
        int pitch = block + 1;         // shared row length, padded
        var aTile = SharedMemory.Allocate<T>(threads * pitch);   // aTile[p, r] = op(A)[rowBase + r, k0 + p]
        var bTile = SharedMemory.Allocate<T>(threads * pitch);   // bTile[p, c] = op(B)[k0 + p, colBase + c]
        var acc = LocalMemory.Allocate<T>(micro * micro);
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * threads + tx;
        int rowBase = Grid.IdxY * block, colBase = Grid.IdxX * block;
        long batch = Grid.IdxZ + g.BatchOffset;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB, cBase = batch * g.StrideC;
        for (int e = 0; e < micro * micro; e++) acc[e] = T.Zero;

        for (int k0 = 0; k0 < g.K; k0 += threads)
        {
            for (int e = 0; e < micro; e++)
            {
                int index = thread + e * threads * threads;   // element of the (block × threads) slice
                aTile[SliceOffset(index, g.TransA == 0 ? 1 : 0, threads, block, pitch)] =
                    LoadA(g, aBase, index, rowBase, k0, threads, block);
                bTile[SliceOffset(index, g.TransB, threads, block, pitch)] =
                    LoadB(g, bBase, index, colBase, k0, threads, block);
            }
            Group.Barrier();
            for (int p = 0; p < threads; p++)
            {
                for (int i = 0; i < micro; i++)
                {
                    T a = aTile[p * pitch + ty + i * threads];
                    for (int j = 0; j < micro; j++) acc[i * micro + j] += a * bTile[p * pitch + tx + j * threads];
                }
            }
            Group.Barrier();
        }

        for (int i = 0; i < micro; i++)
        {
            int row = rowBase + ty + i * threads;
            for (int j = 0; j < micro; j++)
            {
                int col = colBase + tx + j * threads;
                if (row >= g.M || col >= g.N) continue;
                long at = cBase + (long)row * g.Ldc + col;
                T result = g.Alpha * acc[i * micro + j];
                g.C[at] = g.BetaIsZero != 0 ? result : result + g.Beta * g.C[at];
            }
        }
    }

    /// <summary>
    /// Where slice element <paramref name="index"/> goes in a k-major shared tile. A slice is read in
    /// the order its matrix is stored: k fastest when k runs along stored rows (kFastest = 1: A not
    /// transposed, B transposed), else the block dimension fastest.
    /// </summary>
    static int SliceOffset(int index, int kFastest, int threads, int block, int pitch) =>
        kFastest != 0 ? index % threads * pitch + index / threads : index / block * pitch + index % block;

    /// <summary>op(A)[rowBase + r, k0 + p] for slice element <paramref name="index"/>, 0 outside the matrix.</summary>
    static T LoadA<T>(GemmArgs<T> g, long aBase, int index, int rowBase, int k0, int threads, int block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = g.TransA == 0 ? index / threads : index % block;
        int p = g.TransA == 0 ? index % threads : index / block;
        int row = rowBase + r, k = k0 + p;
        if (row >= g.M || k >= g.K) return T.Zero;
        return g.TransA == 0 ? g.A[aBase + (long)row * g.Lda + k] : g.A[aBase + (long)k * g.Lda + row];
    }

    /// <summary>op(B)[k0 + p, colBase + c] for slice element <paramref name="index"/>, 0 outside the matrix.</summary>
    static T LoadB<T>(GemmArgs<T> g, long bBase, int index, int colBase, int k0, int threads, int block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = g.TransB == 0 ? index % block : index / threads;
        int p = g.TransB == 0 ? index / block : index % threads;
        int col = colBase + c, k = k0 + p;
        if (col >= g.N || k >= g.K) return T.Zero;
        return g.TransB == 0 ? g.B[bBase + (long)k * g.Ldb + col] : g.B[bBase + (long)col * g.Ldb + k];
    }

    /// <summary>C = beta·C (0 when beta is 0, without reading C): the whole product when k = 0 or alpha = 0.</summary>
    internal static void ScaleC<T>(Index1D index, GemmArgs<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long perMatrix = (long)g.M * g.N;
        long batch = index / perMatrix + g.BatchOffset;
        int within = (int)(index % perMatrix), row = within / g.N, col = within % g.N;
        long at = batch * g.StrideC + (long)row * g.Ldc + col;
        g.C[at] = g.BetaIsZero != 0 ? T.Zero : g.Beta * g.C[at];
    }
}
