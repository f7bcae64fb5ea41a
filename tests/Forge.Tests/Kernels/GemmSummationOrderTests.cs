using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>
/// The exact arithmetic of the blocked GEMM, pinned bit for bit against a scalar model
/// (<see cref="SummationModel"/>): each element of C is an FMA chain over p inside each k block of
/// <see cref="GemmBlocked.KBlock"/>, starting from +0, stored as alpha·acc (beta = 0), fma(alpha, acc, beta·C) or
/// fma(alpha, acc, bias), later k blocks onto the earlier ones with beta = 1; a split-k product sums its chunks'
/// partials in order. Both microkernels — AVX-512 (14 × 32 floats) and AVX2 (6 × 16) — must equal the model,
/// so a product has the same bits on either kind of CPU: the published numbers reproduce on a machine
/// without AVX-512. The kernels are tested directly (each where the CPU runs it) and through
/// <see cref="Gemm"/> with whichever the CPU picks.
/// </summary>
[NonParallelizable]
public class GemmSummationOrderTests
{
    int _savedThreads;

    [SetUp] public void SaveThreads() => _savedThreads = ForkJoin.Threads;
    [TearDown] public void RestoreThreads() => ForkJoin.Threads = _savedThreads;

    static bool Avx512Runs => GemmSimd.Wide;
    static bool Avx2Runs => Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;

    // ---- the microkernels, tile by tile ----

    public enum Kernel { Avx512, Avx2 }

    [Test]
    public void Microkernel_EqualsTheModel_Float([Values] Kernel kernel, [Values(1, 5, 256)] int kc, [Values] bool transposedA)
        => MicrokernelCase<float>(kernel, kc, transposedA);

    [Test]
    public void Microkernel_EqualsTheModel_Double([Values] Kernel kernel, [Values(1, 9, 200)] int kc, [Values] bool transposedA)
        => MicrokernelCase<double>(kernel, kc, transposedA);

    static unsafe void MicrokernelCase<T>(Kernel kernel, int kc, bool transposedA) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernel == Kernel.Avx512 && !Avx512Runs) Assert.Ignore("This CPU does not run the AVX-512 kernel.");
        if (kernel == Kernel.Avx2 && !Avx2Runs) Assert.Ignore("This CPU has no AVX2 with FMA.");
        int mr = kernel == Kernel.Avx512 ? GemmMicrokernelAvx512.Rows : GemmMicrokernelAvx2.Rows;
        int nr = kernel == Kernel.Avx512 ? GemmMicrokernelAvx512.Columns<T>() : GemmMicrokernelAvx2.Columns<T>();
        int w = nr / 2;
        const int ldc = 97;   // C lies inside a larger buffer: nothing outside the tile may change
        var aData = GemmCheck.Random<T>(mr * kc + 3, seed: 1);
        var bData = GemmCheck.Random<T>(kc * nr, seed: 2);
        var biasData = GemmCheck.Random<T>(nr, seed: 3);
        var cStart = GemmCheck.Random<T>(mr * ldc, seed: 4);
        nint rowStride = transposedA ? 1 : kc, stepStride = transposedA ? mr : 1;
        var cases = new List<(int FirstRow, int Rows, int Cols)>();
        foreach (int rows in new[] { 1, mr / 2 - 1, mr / 2, mr / 2 + 1, mr - 1, mr })
            foreach (int cols in new[] { 1, w - 1, w, w + 1, nr - 1, nr })
            {
                cases.Add((0, rows, cols));
                if (rows > 1) cases.Add((rows - 1, rows, cols));   // an edge tile overlapping the one above
            }
        var (alphas, betas) = (new[] { T.One, T.CreateChecked(-0.75) }, new[] { T.Zero, T.One, T.CreateChecked(0.5) });
        fixed (T* a = aData, b = bData, bias = biasData)
            foreach (var (firstRow, rows, cols) in cases)
                foreach (var alpha in alphas)
                    foreach (var beta in betas)
                        foreach (bool withBias in beta == T.Zero ? new[] { false, true } : new[] { false })
                        {
                            var got = (T[])cStart.Clone();
                            var want = (T[])cStart.Clone();
                            fixed (T* c = got)
                            {
                                if (kernel == Kernel.Avx512)
                                    GemmMicrokernelAvx512.Run(kc, a, rowStride, stepStride, b, c, ldc, firstRow, rows, cols, alpha, beta, withBias ? bias : null);
                                else
                                    GemmMicrokernelAvx2.Run(kc, a, rowStride, stepStride, b, c, ldc, firstRow, rows, cols, alpha, beta, withBias ? bias : null);
                            }
                            // The kernel computes mr/2 or mr rows; only rows [firstRow, rows) are stored.
                            for (int i = firstRow; i < rows; i++)
                                for (int j = 0; j < cols; j++)
                                {
                                    T acc = T.Zero;
                                    for (int p = 0; p < kc; p++)
                                        acc = T.FusedMultiplyAdd(aData[i * rowStride + p * stepStride], bData[p * nr + j], acc);
                                    ref T cij = ref want[i * ldc + j];
                                    cij = SummationModel.Store(acc, alpha, beta, cij, withBias ? biasData[j] : default, withBias);
                                }
                            Assert.That(got, Is.EqualTo(want).AsCollection,
                                $"{kernel} {typeof(T).Name}: kc {kc}, rows [{firstRow}, {rows}), cols {cols}, alpha {alpha}, beta {beta}, bias {withBias}");
                        }
    }

    // ---- the whole GEMM, through whichever kernel this CPU runs ----

    // m, n, k: rows across both tile heights (6/14) and the 7/3-row edge kernels, columns across 8/16/32-wide
    // slivers and a 256- and 512-column panel, k across one and two k blocks (256 → 257) and a ragged third.
    static readonly int[][] Shapes =
    [
        [1, 1, 1], [5, 7, 3], [6, 16, 17], [7, 33, 256], [13, 17, 257], [14, 32, 40], [15, 9, 600],
        [29, 70, 31], [45, 300, 50], [150, 40, 300], [339, 65, 12], [3, 530, 20],
    ];

    [Test]
    public void Gemm_EqualsTheModel_Float([ValueSource(nameof(Shapes))] int[] mnk, [Values] bool transA, [Values] bool transB, [Values(1, 2)] int threads)
    {
        Assume.That(GemmSimd.IsSupported, "No blocked kernel on this CPU: Gemm runs the scalar reference.");
        ForkJoin.Threads = threads;
        SummationModel.Check<float>(transA, transB, mnk[0], mnk[1], mnk[2], 0.5f, 0f, bias: false, seed: mnk[0] + 7 * mnk[1]);
        SummationModel.Check<float>(transA, transB, mnk[0], mnk[1], mnk[2], -1f, 0.25f, bias: false, seed: mnk[2]);
        SummationModel.Check<float>(transA, transB, mnk[0], mnk[1], mnk[2], 1f, 0f, bias: true, seed: 3);
        // alpha = 1 with beta 0 or 1 (linear layers, accumulated gradients): whole tiles are stored straight from registers.
        SummationModel.Check<float>(transA, transB, mnk[0], mnk[1], mnk[2], 1f, 0f, bias: false, seed: 4);
        SummationModel.Check<float>(transA, transB, mnk[0], mnk[1], mnk[2], 1f, 1f, bias: false, seed: 5);
    }

    [Test]
    public void Gemm_EqualsTheModel_Double([ValueSource(nameof(Shapes))] int[] mnk, [Values] bool transA, [Values] bool transB)
    {
        Assume.That(GemmSimd.IsSupported, "No blocked kernel on this CPU: Gemm runs the scalar reference.");
        ForkJoin.Threads = 2;
        SummationModel.Check<double>(transA, transB, mnk[0], mnk[1], mnk[2], 0.5, 1.0, bias: false, seed: 5);
        SummationModel.Check<double>(transA, transB, mnk[0], mnk[1], mnk[2], 1.0, 0.0, bias: true, seed: 6);
        SummationModel.Check<double>(transA, transB, mnk[0], mnk[1], mnk[2], 1.0, 1.0, bias: false, seed: 7);
    }

    // Rows a page apart: a transposed A packed block by block, a C computed row sliver by row sliver.
    [TestCase(1030, 40, 300, true, 1)]
    [TestCase(40, 1100, 70, false, 2)]
    public void Gemm_FarApartRows_EqualTheModel(int m, int n, int k, bool transA, int threads)
    {
        Assume.That(GemmSimd.IsSupported, "No blocked kernel on this CPU: Gemm runs the scalar reference.");
        ForkJoin.Threads = threads;
        SummationModel.Check<float>(transA, false, m, n, k, 1f, 0.5f, bias: false, seed: 8);
    }

    // Small C, long k: split along k into chunks of 1,024, each a blocked product; partials added in order.
    [TestCase(true, false, 96, 96, 3000, 0.0, 2)]
    [TestCase(false, true, 17, 45, 2 * 1024 + 37, 0.5, 1)]
    public void SplitK_EqualsTheModel(bool transA, bool transB, int m, int n, int k, double beta, int threads)
    {
        Assume.That(GemmSimd.IsSupported, "No blocked kernel on this CPU: Gemm runs the scalar reference.");
        Assume.That(GemmSplitK.Applies(m, n, k));
        ForkJoin.Threads = threads;
        SummationModel.Check<float>(transA, transB, m, n, k, 0.5f, (float)beta, bias: false, seed: 9);
    }
}

/// <summary>The blocked GEMM's arithmetic written out one element at a time (see <see cref="GemmSummationOrderTests"/>).</summary>
static class SummationModel
{
    /// <summary>The epilogue: alpha·acc, fma(alpha, acc, beta·c) or fma(alpha, acc, bias).</summary>
    public static T Store<T>(T acc, T alpha, T beta, T c, T bias, bool withBias) where T : IFloatingPointIeee754<T>
    {
        if (withBias) return T.FusedMultiplyAdd(alpha, acc, bias);
        return beta == T.Zero ? alpha * acc : T.FusedMultiplyAdd(alpha, acc, beta * c);
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C as the blocked kernel sums it: k blocks of KBlock(k), FMA chains inside.</summary>
    static void Blocked<T>(bool transA, bool transB, int m, int n, int k, T alpha, T[] a, int lda, int aOffset,
        T[] b, int ldb, int bOffset, T beta, T[] c, int ldc, int cOffset, T[]? bias) where T : IFloatingPointIeee754<T>
    {
        int kb = GemmBlocked.KBlock(k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                ref T cij = ref c[cOffset + i * ldc + j];
                for (int pc = 0; pc < k; pc += kb)
                {
                    T acc = T.Zero;
                    for (int p = pc; p < Math.Min(k, pc + kb); p++)
                    {
                        T aip = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                        T bpj = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                        acc = T.FusedMultiplyAdd(aip, bpj, acc);
                    }
                    bool first = pc == 0;
                    cij = Store(acc, alpha, first ? beta : T.One, cij, first && bias != null ? bias[j] : T.Zero, first && bias != null);
                }
            }
    }

    /// <summary>Gemm.Run (or RunWithBias, beta = 0) against the model, bit for bit, A and B with padded rows.</summary>
    public static void Check<T>(bool transA, bool transB, int m, int n, int k, T alpha, T beta, bool bias, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bias) beta = T.Zero;
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 2;
        var a = GemmCheck.Random<T>((transA ? k : m) * lda, seed);
        var b = GemmCheck.Random<T>((transB ? n : k) * ldb, seed + 1);
        var biasRow = bias ? GemmCheck.Random<T>(n, seed + 2) : null;
        var got = GemmCheck.Random<T>(m * ldc, seed + 3);
        var want = (T[])got.Clone();
        if (bias) Gemm.RunWithBias(transA, transB, m, n, k, alpha, a, lda, b, ldb, biasRow, got, ldc);
        else Gemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc);

        if (GemmSplitK.Applies(m, n, k))
        {
            // Chunk i: alpha·op(A)[:, chunk]·op(B)[chunk, :] (beta 0); then C = Σ partials in order (+ C·beta, unfused).
            int chunks = (k + GemmSplitK.ChunkDepth - 1) / GemmSplitK.ChunkDepth;
            var partials = new T[chunks][];
            for (int s = 0; s < chunks; s++)
            {
                int p0 = s * GemmSplitK.ChunkDepth, depth = Math.Min(GemmSplitK.ChunkDepth, k - p0);
                partials[s] = new T[m * n];
                Blocked(transA, transB, m, n, depth, alpha, a, lda, transA ? p0 * lda : p0, b, ldb, transB ? p0 : p0 * ldb,
                    T.Zero, partials[s], n, 0, null);
            }
            if (bias) throw new ArgumentException("The model has no bias on the split-k path.");
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T sum = partials[0][i * n + j];
                    for (int s = 1; s < chunks; s++) sum += partials[s][i * n + j];
                    ref T cij = ref want[i * ldc + j];
                    cij = beta == T.Zero ? sum : cij * beta + sum;
                }
        }
        else Blocked(transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, want, ldc, 0, biasRow);

        Assert.That(got, Is.EqualTo(want).AsCollection,
            $"{typeof(T).Name} m {m} n {n} k {k} transA {transA} transB {transB} alpha {alpha} beta {beta} bias {bias}");
    }
}
