using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>
/// Operands whose rows are a page or more apart take other paths through the blocked GEMM: a transposed A is
/// packed block by block instead of read in place, and a C with rows a page apart is computed row sliver by row
/// sliver (the tiles of one sliver left to right) instead of column sliver by column sliver (the unembedding's
/// logits, 2,049 wide). Neither may change a bit: the same product through the usual path (A stored the other way
/// round; C stored compactly) gives the same C, on one and two threads, with ragged tiles, a block shorter than one
/// tile, several k blocks, beta and a bias; and both agree with the reference product.
/// </summary>
[NonParallelizable]
public class GemmPageStrideTests
{
    int _savedThreads;

    [SetUp] public void SaveThreads() => _savedThreads = ForkJoin.Threads;
    [TearDown] public void RestoreThreads() => ForkJoin.Threads = _savedThreads;

    // m ≥ 1,024 floats: rows 4 KB apart. 1,030 rows = three 336-row blocks and 22 (14 + 8); 1,013 leaves a block
    // of 5 rows, shorter than the 7-row kernel; k = 300 is two k blocks (the second adds onto C with beta = 1).
    [TestCase(1030, 70, 300, 1, 0)]
    [TestCase(1013, 33, 5, 2, 0)]
    [TestCase(2049, 128, 257, 2, 0)]
    [TestCase(50, 64, 40, 1, 1100)]     // a narrow A inside a wide stored matrix: lda 1,150, 50 rows used
    public void TransposedFarApartA_GivesTheInPlaceBits_Float(int m, int n, int k, int threads, int padA)
        => SameBitsAsInPlace<float>(m, n, k, threads, padA);

    [TestCase(520, 40, 300, 1, 0)]      // doubles: 512 of them fill a page
    [TestCase(515, 17, 9, 2, 0)]
    public void TransposedFarApartA_GivesTheInPlaceBits_Double(int m, int n, int k, int threads, int padA)
        => SameBitsAsInPlace<double>(m, n, k, threads, padA);

    [TestCase(1030, 70, 300)]
    public void WithBias_GivesTheInPlaceBits(int m, int n, int k)
    {
        ForkJoin.Threads = 2;
        var a = GemmCheck.Random<float>(k * m, seed: 3);
        var rowMajorA = Transpose(a, k, m, m);
        var b = GemmCheck.Random<float>(k * n, seed: 4);
        var bias = GemmCheck.Random<float>(n, seed: 5);
        var packed = new float[m * n];
        var inPlace = new float[m * n];
        Array.Fill(packed, float.NaN);
        Array.Fill(inPlace, float.NaN);
        Gemm.RunWithBias(true, false, m, n, k, 0.5f, a, m, b, n, bias, packed, n);
        Gemm.RunWithBias(false, false, m, n, k, 0.5f, rowMajorA, k, b, n, bias, inPlace, n);
        Assert.That(packed, Is.EqualTo(inPlace).AsCollection);
    }

    [TestCase(1030, 70, 300)]
    public void AgreesWithTheReference(int m, int n, int k)
    {
        GemmCheck.AgainstReference(true, false, m, n, k, 0.75f, 0.25f, seed: 11);
        GemmCheck.AgainstReference(true, true, m, n, k, 1.0, 0.0, seed: 12);
    }

    // ldc ≥ 1,024 floats: C's rows 4 KB apart. n = 2,049 as the unembedding (five 512-wide panels, a ragged last
    // one); 1,013 rows leave a block of 5 rows; k = 300 is two k blocks.
    [TestCase(false, false, 1013, 2049, 300, 1, 0)]
    [TestCase(false, true, 700, 2049, 128, 2, 0)]
    [TestCase(true, false, 130, 70, 40, 2, 1030)]     // a narrow C inside a wide one: ldc 1,100
    [TestCase(false, false, 30, 33, 5, 1, 1000)]
    public void FarApartRowsOfC_GiveTheCompactBits(bool transA, bool transB, int m, int n, int k, int threads, int padC)
    {
        ForkJoin.Threads = threads;
        int ldc = n + padC;
        var a = GemmCheck.Random<float>(m * k, seed: 21);
        var b = GemmCheck.Random<float>(k * n, seed: 22);
        var bias = GemmCheck.Random<float>(n, seed: 23);
        var c = GemmCheck.Random<float>(m * n, seed: 24);
        int lda = transA ? m : k, ldb = transB ? k : n;
        foreach (bool withBias in new[] { false, true })
        {
            var wide = new float[m * ldc];                          // C's values, rows padded to ldc
            Array.Fill(wide, 12345f);
            for (int i = 0; i < m; i++) c.AsSpan(i * n, n).CopyTo(wide.AsSpan(i * ldc));
            if (withBias) Gemm.RunWithBias(transA, transB, m, n, k, 0.5f, a, lda, b, ldb, bias, wide, ldc);
            else Gemm.Run(transA, transB, m, n, k, 0.75f, a, lda, b, ldb, 0.25f, wide, ldc);

            // The same product in column strips of at most 500, each stored compactly (rows 2 KB apart at most).
            for (int j0 = 0; j0 < n; j0 += 500)
            {
                int w = Math.Min(500, n - j0);
                var strip = new float[m * w];
                for (int i = 0; i < m; i++) c.AsSpan(i * n + j0, w).CopyTo(strip.AsSpan(i * w));
                var bStrip = b.AsSpan(transB ? j0 * ldb : j0);
                if (withBias) Gemm.RunWithBias(transA, transB, m, w, k, 0.5f, a, lda, bStrip, ldb, bias.AsSpan(j0, w), strip, w);
                else Gemm.Run(transA, transB, m, w, k, 0.75f, a, lda, bStrip, ldb, 0.25f, strip, w);
                for (int i = 0; i < m; i++)
                    Assert.That(wide.AsSpan(i * ldc + j0, w).ToArray(), Is.EqualTo(strip.AsSpan(i * w, w).ToArray()).AsCollection,
                        $"row {i}, columns {j0}..{j0 + w - 1}, bias {withBias}");
            }
            for (int i = 0; i < m; i++)
                Assert.That(wide.AsSpan(i * ldc + n, padC).ToArray(), Is.All.EqualTo(12345f), $"padding of row {i}");
        }
    }

    [Test]
    public void FarApartRowsOfC_AgreeWithTheReference()
    {
        GemmCheck.AgainstReference(false, true, 300, 50, 70, 0.75f, 0.25f, seed: 31, padC: 1000);
        GemmCheck.AgainstReference(true, false, 100, 520, 9, 1.0, 0.0, seed: 32, padC: 10);
    }

    static void SameBitsAsInPlace<T>(int m, int n, int k, int threads, int padA) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ForkJoin.Threads = threads;
        int lda = m + padA;
        var a = GemmCheck.Matrix(k, m, padA, T.NaN, seed: 1);      // stored (k, lda): op(A) = Aᵀ, padding NaN
        var rowMajorA = Transpose(a, k, m, lda);                    // the same op(A) stored (m, k)
        var b = GemmCheck.Random<T>(k * n, seed: 2);
        var c = GemmCheck.Random<T>(m * n, seed: 3);
        T alpha = T.CreateChecked(0.75), beta = T.CreateChecked(0.25);

        var packed = (T[])c.Clone();
        Gemm.Run(true, false, m, n, k, alpha, a, lda, b, n, beta, packed, n);
        var inPlace = (T[])c.Clone();
        Gemm.Run(false, false, m, n, k, alpha, rowMajorA, k, b, n, beta, inPlace, n);
        Assert.That(packed, Is.EqualTo(inPlace).AsCollection);
    }

    /// <summary>The (rows, cols) matrix stored with row stride ld, returned as (cols, rows) row-major.</summary>
    static T[] Transpose<T>(T[] source, int rows, int cols, int ld) where T : unmanaged
    {
        var result = new T[cols * rows];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) result[j * rows + r] = source[r * ld + j];
        return result;
    }
}
