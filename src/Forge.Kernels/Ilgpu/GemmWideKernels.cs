using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// A second, wider float32 GEMM kernel for GPUs (opt-in: <see cref="IlgpuBackend.WideGemm"/>), after the first steps of
/// the GPU analysis's GEMM plan: 128 × 128 tiles of C per group of 16 × 16 threads, 8 × 8 outputs per thread held in 64
/// registers, k in slices of 8 staged in shared memory k-major, and the shared tiles read as <see cref="Vector4"/>
/// (4 vector loads feed 64 multiply-adds, against 8 scalar loads per 16 in <see cref="GemmKernels.Tiled{T, TTiling}"/>).
/// A thread owns rows ty·4 … ty·4 + 3 and 64 + ty·4 … 64 + ty·4 + 3 of its tile (likewise columns with tx), so a
/// quarter-warp's vector loads cover 128 contiguous bytes: no bank conflicts on the reads; each k row of a shared tile
/// is padded by one vector so the staging stores do not conflict either.
/// <para>
/// The same contract and arguments as the tiled kernel (<see cref="GemmArgs{T}"/>: transposes, leading
/// dimensions, batches, split-k into partials, alpha, beta, bias), so <see cref="IlgpuGemm"/> can take either. Each
/// output's sum runs over k in order, as in the tiled kernel, but the results are not promised to be bit-identical
/// to it (the compiler may contract differently). Its speed is unmeasured until a session with a GPU runs
/// <c>GpuGemmBenchmarks</c>; until then it is not the default. Written out by hand (the 64 accumulators must stay
/// in registers, and ILGPU does not unroll loops).
/// </para>
/// </summary>
internal static class GemmWideKernels
{
    /// <summary>Threads per side of a group (16 × 16 = 256).</summary>
    internal const int Threads = 16;

    /// <summary>Rows and columns of C per group.</summary>
    internal const int Block = 128;

    /// <summary>k per shared-memory slice.</summary>
    internal const int Depth = 8;

    /// <summary>
    /// Floats per k row of a shared tile: Block plus one Vector4 of padding, so that the staging stores, which walk
    /// k fastest for a non-transposed A (or a transposed B), land on 32 different banks instead of 4, while the
    /// vector reads stay 16-byte aligned and contiguous.
    /// </summary>
    internal const int Pitch = Block + 4;

    /// <summary>One group per (column block, row block, batch entry × k split) of C; groups of 16 × 16 threads.</summary>
    internal static void Tiled(GemmArgs<float> g)
    {
        var aTile = SharedMemory.Allocate<Vector4>(Depth * Pitch / 4);   // [p, r]: op(A)[rowBase + r, k0 + p], as floats p·Pitch + r
        var bTile = SharedMemory.Allocate<Vector4>(Depth * Pitch / 4);   // [p, c]: op(B)[k0 + p, colBase + c]
        var aFloats = aTile.Cast<float>();
        var bFloats = bTile.Cast<float>();
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * Threads + tx;
        int rowBase = Grid.IdxY * Block, colBase = Grid.IdxX * Block;
        int split = Grid.IdxZ % g.Splits;
        long local = Grid.IdxZ / g.Splits, batch = local + g.BatchOffset, partial = local * g.Splits + split;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB;
        int kBegin = split * g.KChunk, kEnd = g.K - kBegin < g.KChunk ? g.K : kBegin + g.KChunk;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c04 = 0f, c05 = 0f, c06 = 0f, c07 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f, c14 = 0f, c15 = 0f, c16 = 0f, c17 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f, c24 = 0f, c25 = 0f, c26 = 0f, c27 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f, c34 = 0f, c35 = 0f, c36 = 0f, c37 = 0f;
        float c40 = 0f, c41 = 0f, c42 = 0f, c43 = 0f, c44 = 0f, c45 = 0f, c46 = 0f, c47 = 0f;
        float c50 = 0f, c51 = 0f, c52 = 0f, c53 = 0f, c54 = 0f, c55 = 0f, c56 = 0f, c57 = 0f;
        float c60 = 0f, c61 = 0f, c62 = 0f, c63 = 0f, c64 = 0f, c65 = 0f, c66 = 0f, c67 = 0f;
        float c70 = 0f, c71 = 0f, c72 = 0f, c73 = 0f, c74 = 0f, c75 = 0f, c76 = 0f, c77 = 0f;

        for (int k0 = kBegin; k0 < kEnd; k0 += Depth)
        {
            // Stage the slices: 1,024 values of each, 4 per thread, consecutive threads on consecutive addresses.
            for (int e = 0; e < 4; e++)
            {
                int index = thread + e * Threads * Threads;
                int r = g.TransA == 0 ? index / Depth : index % Block, pa = g.TransA == 0 ? index % Depth : index / Block;
                int row = rowBase + r, ka = k0 + pa;
                float av = 0f;
                if (row < g.M && ka < kEnd) av = g.TransA == 0 ? g.A[aBase + (long)row * g.Lda + ka] : g.A[aBase + (long)ka * g.Lda + row];
                aFloats[pa * Pitch + r] = av;
                int c = g.TransB == 0 ? index % Block : index / Depth, pb = g.TransB == 0 ? index / Block : index % Depth;
                int col = colBase + c, kb = k0 + pb;
                float bv = 0f;
                if (col < g.N && kb < kEnd) bv = g.TransB == 0 ? g.B[bBase + (long)kb * g.Ldb + col] : g.B[bBase + (long)col * g.Ldb + kb];
                bFloats[pb * Pitch + c] = bv;
            }
            Group.Barrier();
            for (int p = 0; p < Depth; p++)
            {
                int slice = p * (Pitch / 4);
                Vector4 a0 = aTile[slice + ty], a1 = aTile[slice + Block / 8 + ty];
                Vector4 b0 = bTile[slice + tx], b1 = bTile[slice + Block / 8 + tx];
                c00 += a0.X * b0.X; c01 += a0.X * b0.Y; c02 += a0.X * b0.Z; c03 += a0.X * b0.W; c04 += a0.X * b1.X; c05 += a0.X * b1.Y; c06 += a0.X * b1.Z; c07 += a0.X * b1.W;
                c10 += a0.Y * b0.X; c11 += a0.Y * b0.Y; c12 += a0.Y * b0.Z; c13 += a0.Y * b0.W; c14 += a0.Y * b1.X; c15 += a0.Y * b1.Y; c16 += a0.Y * b1.Z; c17 += a0.Y * b1.W;
                c20 += a0.Z * b0.X; c21 += a0.Z * b0.Y; c22 += a0.Z * b0.Z; c23 += a0.Z * b0.W; c24 += a0.Z * b1.X; c25 += a0.Z * b1.Y; c26 += a0.Z * b1.Z; c27 += a0.Z * b1.W;
                c30 += a0.W * b0.X; c31 += a0.W * b0.Y; c32 += a0.W * b0.Z; c33 += a0.W * b0.W; c34 += a0.W * b1.X; c35 += a0.W * b1.Y; c36 += a0.W * b1.Z; c37 += a0.W * b1.W;
                c40 += a1.X * b0.X; c41 += a1.X * b0.Y; c42 += a1.X * b0.Z; c43 += a1.X * b0.W; c44 += a1.X * b1.X; c45 += a1.X * b1.Y; c46 += a1.X * b1.Z; c47 += a1.X * b1.W;
                c50 += a1.Y * b0.X; c51 += a1.Y * b0.Y; c52 += a1.Y * b0.Z; c53 += a1.Y * b0.W; c54 += a1.Y * b1.X; c55 += a1.Y * b1.Y; c56 += a1.Y * b1.Z; c57 += a1.Y * b1.W;
                c60 += a1.Z * b0.X; c61 += a1.Z * b0.Y; c62 += a1.Z * b0.Z; c63 += a1.Z * b0.W; c64 += a1.Z * b1.X; c65 += a1.Z * b1.Y; c66 += a1.Z * b1.Z; c67 += a1.Z * b1.W;
                c70 += a1.W * b0.X; c71 += a1.W * b0.Y; c72 += a1.W * b0.Z; c73 += a1.W * b0.W; c74 += a1.W * b1.X; c75 += a1.W * b1.Y; c76 += a1.W * b1.Z; c77 += a1.W * b1.W;
            }
            Group.Barrier();
        }

        StoreRow(g, batch, partial, rowBase + ty * 4 + 0, colBase + tx * 4, c00, c01, c02, c03, c04, c05, c06, c07);
        StoreRow(g, batch, partial, rowBase + ty * 4 + 1, colBase + tx * 4, c10, c11, c12, c13, c14, c15, c16, c17);
        StoreRow(g, batch, partial, rowBase + ty * 4 + 2, colBase + tx * 4, c20, c21, c22, c23, c24, c25, c26, c27);
        StoreRow(g, batch, partial, rowBase + ty * 4 + 3, colBase + tx * 4, c30, c31, c32, c33, c34, c35, c36, c37);
        StoreRow(g, batch, partial, rowBase + 64 + ty * 4 + 0, colBase + tx * 4, c40, c41, c42, c43, c44, c45, c46, c47);
        StoreRow(g, batch, partial, rowBase + 64 + ty * 4 + 1, colBase + tx * 4, c50, c51, c52, c53, c54, c55, c56, c57);
        StoreRow(g, batch, partial, rowBase + 64 + ty * 4 + 2, colBase + tx * 4, c60, c61, c62, c63, c64, c65, c66, c67);
        StoreRow(g, batch, partial, rowBase + 64 + ty * 4 + 3, colBase + tx * 4, c70, c71, c72, c73, c74, c75, c76, c77);
    }

    /// <summary>Row <paramref name="row"/>'s 8 outputs of this thread: columns col … col + 3 and col + 64 … col + 67.</summary>
    static void StoreRow(GemmArgs<float> g, long batch, long partial, int row, int col,
        float c0, float c1, float c2, float c3, float c4, float c5, float c6, float c7)
    {
        GemmKernels.StoreRow(g, batch, partial, row, col, 1, c0, c1, c2, c3);
        GemmKernels.StoreRow(g, batch, partial, row, col + Block / 2, 1, c4, c5, c6, c7);
    }
}
