using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Arguments of the GEMM kernels: C = alpha·op(A)·op(B) + beta·C for matrices batchOffset + Grid.IdxZ / Splits.
/// With Splits &gt; 1 (split-k), grid slice z computes the k range [s·KChunk, (s + 1)·KChunk) of batch
/// entry z / Splits, s = z mod Splits, into Partials (Splits partial products per entry, M × N each), and
/// <see cref="GemmKernels.SumSplits{T}"/> adds them in order into C. A non-empty Bias (n values) is added to every
/// row of C as it is stored (a linear layer's forward; beta is then 0).
/// </summary>
internal struct GemmArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> A, B, C, Partials, Bias;
    public int TransA, TransB, M, N, K, Lda, Ldb, Ldc, BetaIsZero, BatchOffset, Splits, KChunk;
    public long StrideA, StrideB, StrideC;
    public T Alpha, Beta;
}

/// <summary>
/// Device code of <see cref="IlgpuGemm"/>. The tiled kernel is the classic shared-memory GEMM with
/// register blocking: each group stages a (block × Threads) slice of op(A) and a (Threads × block)
/// slice of op(B) in shared memory, then every thread accumulates its 4 × 4 outputs from them
/// (8 shared loads per 16 multiply-adds). The transposes only change how a slice is read from global memory: consecutive threads
/// always read consecutive addresses (coalesced), and the shared tiles are stored k-major with one
/// padding element per row so the transposed stores do not collide on a bank.
/// </summary>
internal static class GemmKernels
{
    /// <summary>C elements per thread along each side (the 4 × 4 accumulators are spelled out so they stay in registers).</summary>
    internal const int Micro = 4;

    /// <summary>One group per (column block, row block, batch entry × k split) of C; groups of Threads × Threads.</summary>
    internal static void Tiled<T, TTiling>(GemmArgs<T> g)
        where T : unmanaged, IFloatingPointIeee754<T> where TTiling : struct, IGemmTiling
    {
        int threads = default(TTiling).Threads;
        int block = threads * Micro;   // rows and columns of C per group
        int pitch = block + 1;         // shared row length, padded
        var aTile = SharedMemory.Allocate<T>(default(TTiling).Threads * (default(TTiling).Threads * Micro + 1));   // [p, r] = op(A)[rowBase + r, k0 + p]
        var bTile = SharedMemory.Allocate<T>(default(TTiling).Threads * (default(TTiling).Threads * Micro + 1));   // [p, c] = op(B)[k0 + p, colBase + c]
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * threads + tx;
        int rowBase = Grid.IdxY * block, colBase = Grid.IdxX * block;
        int split = Grid.IdxZ % g.Splits;
        long local = Grid.IdxZ / g.Splits, batch = local + g.BatchOffset;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB;
        int kBegin = split * g.KChunk, kEnd = g.K - kBegin < g.KChunk ? g.K : kBegin + g.KChunk;
        // Thread (tx, ty) owns rows ty + i·threads and columns tx + j·threads of the block: c{i}{j}.
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero, c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero, c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;

        for (int k0 = kBegin; k0 < kEnd; k0 += threads)
        {
            for (int e = 0; e < Micro; e++)
            {
                int index = thread + e * threads * threads;   // element of the (block × threads) slice
                aTile[SliceOffset(index, g.TransA == 0 ? 1 : 0, threads, block, pitch)] =
                    LoadA(g, aBase, index, rowBase, k0, kEnd, threads, block);
                bTile[SliceOffset(index, g.TransB, threads, block, pitch)] =
                    LoadB(g, bBase, index, colBase, k0, kEnd, threads, block);
            }
            Group.Barrier();
            for (int p = 0; p < threads; p++)
            {
                int aAt = p * pitch + ty, bAt = p * pitch + tx;
                T a0 = aTile[aAt], a1 = aTile[aAt + threads], a2 = aTile[aAt + 2 * threads], a3 = aTile[aAt + 3 * threads];
                T b0 = bTile[bAt], b1 = bTile[bAt + threads], b2 = bTile[bAt + 2 * threads], b3 = bTile[bAt + 3 * threads];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int row = rowBase + ty, col = colBase + tx;
        StoreRow(g, batch, local * g.Splits + split, row, col, threads, c00, c01, c02, c03);
        StoreRow(g, batch, local * g.Splits + split, row + threads, col, threads, c10, c11, c12, c13);
        StoreRow(g, batch, local * g.Splits + split, row + 2 * threads, col, threads, c20, c21, c22, c23);
        StoreRow(g, batch, local * g.Splits + split, row + 3 * threads, col, threads, c30, c31, c32, c33);
    }

    /// <summary>
    /// C[row, col + j·threads] = alpha·c_j + beta·C (beta = 0: C not read), for the columns inside C; with
    /// split-k, the raw sums c_j go to partial product <paramref name="partial"/> instead.
    /// </summary>
    internal static void StoreRow<T>(GemmArgs<T> g, long batch, long partial, int row, int col, int threads, T c0, T c1, T c2, T c3)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row >= g.M) return;
        if (g.Splits > 1)
        {
            long partialRow = (partial * g.M + row) * g.N;
            if (col < g.N) g.Partials[partialRow + col] = c0;
            if (col + threads < g.N) g.Partials[partialRow + col + threads] = c1;
            if (col + 2 * threads < g.N) g.Partials[partialRow + col + 2 * threads] = c2;
            if (col + 3 * threads < g.N) g.Partials[partialRow + col + 3 * threads] = c3;
            return;
        }
        long rowStart = batch * g.StrideC + (long)row * g.Ldc;
        Store(g, rowStart, col, c0);
        Store(g, rowStart, col + threads, c1);
        Store(g, rowStart, col + 2 * threads, c2);
        Store(g, rowStart, col + 3 * threads, c3);
    }

    static void Store<T>(GemmArgs<T> g, long rowStart, int col, T sum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (col >= g.N) return;
        long at = rowStart + col;
        T result = g.Alpha * sum;
        // With a bias, beta is 0: alpha·sum + bias[col], the bits of writing the bias into C first and adding with beta = 1.
        if (g.Bias.Length > 0) result += g.Bias[col];
        g.C[at] = g.BetaIsZero != 0 ? result : result + g.Beta * g.C[at];
    }

    /// <summary>
    /// Split-k's second pass, one thread per element of C (of this launch's batch entries): adds the
    /// Splits partial products in split order, then C = alpha·sum + beta·C.
    /// </summary>
    internal static void SumSplits<T>(Index1D index, GemmArgs<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long perMatrix = (long)g.M * g.N;
        int local = index / PerMatrix32(perMatrix), within = index % PerMatrix32(perMatrix), row = within / g.N, col = within % g.N;
        T sum = SerialSum.Add(T.Zero, g.Partials, (long)local * g.Splits * perMatrix + within, perMatrix, g.Splits);
        Store(g, (local + g.BatchOffset) * g.StrideC + (long)row * g.Ldc, col, sum);
    }

    /// <summary>
    /// Where slice element <paramref name="index"/> goes in a k-major shared tile. A slice is read in
    /// the order its matrix is stored: k fastest when k runs along stored rows (kFastest = 1: A not
    /// transposed, B transposed), else the block dimension fastest.
    /// </summary>
    static int SliceOffset(int index, int kFastest, int threads, int block, int pitch) =>
        kFastest != 0 ? index % threads * pitch + index / threads : index / block * pitch + index % block;

    /// <summary>op(A)[rowBase + r, k0 + p] for slice element <paramref name="index"/>, 0 outside the matrix or past kEnd.</summary>
    static T LoadA<T>(GemmArgs<T> g, long aBase, int index, int rowBase, int k0, int kEnd, int threads, int block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = g.TransA == 0 ? index / threads : index % block;
        int p = g.TransA == 0 ? index % threads : index / block;
        int row = rowBase + r, k = k0 + p;
        if (row >= g.M || k >= kEnd) return T.Zero;
        return g.TransA == 0 ? g.A[aBase + (long)row * g.Lda + k] : g.A[aBase + (long)k * g.Lda + row];
    }

    /// <summary>op(B)[k0 + p, colBase + c] for slice element <paramref name="index"/>, 0 outside the matrix or past kEnd.</summary>
    static T LoadB<T>(GemmArgs<T> g, long bBase, int index, int colBase, int k0, int kEnd, int threads, int block)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = g.TransB == 0 ? index % block : index / threads;
        int p = g.TransB == 0 ? index / block : index % threads;
        int col = colBase + c, k = k0 + p;
        if (col >= g.N || k >= kEnd) return T.Zero;
        return g.TransB == 0 ? g.B[bBase + (long)k * g.Ldb + col] : g.B[bBase + (long)col * g.Ldb + k];
    }

    /// <summary>
    /// M·N as a 32-bit divisor for the one-thread-per-element kernels (32-bit division: a 64-bit one is a long
    /// PTX subroutine). Their index is below 2³¹, so a larger matrix is clamped: every index is then in matrix 0.
    /// </summary>
    static int PerMatrix32(long perMatrix) => perMatrix > int.MaxValue ? int.MaxValue : (int)perMatrix;

    /// <summary>C = beta·C (0 when beta is 0, without reading C; the bias rows when there is one): the whole product when k = 0 or alpha = 0.</summary>
    internal static void ScaleC<T>(Index1D index, GemmArgs<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int perMatrix = PerMatrix32((long)g.M * g.N);
        long batch = index / perMatrix + g.BatchOffset;
        int within = index % perMatrix, row = within / g.N, col = within % g.N;
        long at = batch * g.StrideC + (long)row * g.Ldc + col;
        g.C[at] = g.Bias.Length > 0 ? g.Bias[col] : g.BetaIsZero != 0 ? T.Zero : g.Beta * g.C[at];
    }
}
