using System.Numerics;
using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.Run{T}"/> against <see cref="GemmReference"/>: every transpose combination, sizes
/// that are and are not multiples of the 14×32 tile, strided sub-matrices, and alpha/beta variants.
/// </summary>
public class GemmTests
{
    [Test]
    public void SquareFloat([Values(1, 7, 33, 127, 129, 257)] int n, [Values] bool transA, [Values] bool transB)
    {
        GemmCheck.AgainstReference<float>(transA, transB, n, n, n, alpha: 1f, beta: 0f, seed: n);
    }

    [Test]
    public void SquareDouble([Values(1, 7, 33, 127, 129, 257)] int n, [Values] bool transA, [Values] bool transB)
    {
        GemmCheck.AgainstReference<double>(transA, transB, n, n, n, alpha: 1.0, beta: 0.0, seed: n);
    }

    // m, n, k all different, including k = 1, n = 1, m = 1, k past one k block (256), m past one row
    // block (336: 400 ends on an 8-row edge tile, 341 on a 5-row block that must be packed), and
    // n past one column panel (512).
    static readonly int[][] Rectangles =
    [
        [3, 5, 7], [37, 1, 50], [1, 45, 17], [50, 31, 1], [15, 33, 300], [300, 47, 9],
        [14, 32, 256], [28, 64, 513], [100, 200, 3], [13, 31, 29], [2, 96, 96], [200, 21, 48],
        [400, 40, 300], [341, 20, 30], [9, 530, 11],
    ];

    [Test]
    public void RectangularFloat([ValueSource(nameof(Rectangles))] int[] mnk, [Values] bool transA, [Values] bool transB)
    {
        GemmCheck.AgainstReference<float>(transA, transB, mnk[0], mnk[1], mnk[2], alpha: 1f, beta: 0f, seed: mnk[0] + mnk[2]);
    }

    [Test]
    public void RectangularDouble([ValueSource(nameof(Rectangles))] int[] mnk, [Values] bool transA, [Values] bool transB)
    {
        GemmCheck.AgainstReference<double>(transA, transB, mnk[0], mnk[1], mnk[2], alpha: 1.0, beta: 0.0, seed: mnk[1]);
    }

    [Test]
    public void StridedSubMatricesOnlyTouchTheirElements([Values] bool transA, [Values] bool transB)
    {
        // Padding of A and B is NaN, so reading it would poison C; padding of C must survive untouched.
        GemmCheck.AgainstReference<float>(transA, transB, 45, 70, 130, alpha: 1f, beta: 0f, seed: 3, padA: 5, padB: 17, padC: 3);
        GemmCheck.AgainstReference<double>(transA, transB, 29, 19, 31, alpha: 1.0, beta: 1.0, seed: 4, padA: 1, padB: 2, padC: 9);
    }

    [TestCase(1f, 0f)]
    [TestCase(2.5f, 0f)]
    [TestCase(1f, 1f)]
    [TestCase(-0.5f, 2f)]
    [TestCase(0f, 0.5f)]
    [TestCase(0f, 0f)]
    [TestCase(1f, -1f)]
    public void AlphaBetaVariants(float alpha, float beta)
    {
        foreach (bool transA in new[] { false, true })
        {
            GemmCheck.AgainstReference(transA, !transA, 33, 40, 70, alpha, beta, seed: 5);
            GemmCheck.AgainstReference(transA, transA, 300, 17, 260, (double)alpha, (double)beta, seed: 6);
        }
    }

    [Test]
    public void BetaZeroIgnoresNaNInC([Values(1, 15, 64)] int n)
    {
        var a = GemmCheck.Random<float>(n * n, seed: 1);
        var b = GemmCheck.Random<float>(n * n, seed: 2);
        var c = new float[n * n];
        Array.Fill(c, float.NaN);
        Gemm.Run(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
        Assert.That(c.All(float.IsFinite), Is.True);
    }

    [Test]
    public void EmptyKScalesC()
    {
        var c = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        Gemm.Run<float>(false, false, 2, 3, 0, 1f, [], 0, [], 3, 2f, c, 3);
        Assert.That(c, Is.EqualTo(new[] { 2f, 4f, 6f, 8f, 10f, 12f }));
        Gemm.Run<float>(true, true, 2, 3, 0, 1f, [], 2, [], 0, 0f, c, 3);
        Assert.That(c, Is.All.EqualTo(0f));
    }

    [Test]
    public void EmptyMOrNTouchesNothing()
    {
        var c = new[] { 7f };
        Gemm.Run<float>(false, false, 0, 1, 4, 1f, [], 4, new float[4], 1, 0f, c, 1);
        Gemm.Run<float>(false, false, 1, 0, 4, 1f, new float[4], 4, [], 0, 0f, c, 0);
        Assert.That(c[0], Is.EqualTo(7f));
    }

    // Split along k (GemmSplitK: C of at most 2^16 elements, k of at least two chunks of 1024): every
    // transpose, a ragged last chunk, beta 0 over a NaN-filled C and beta ≠ 0, padded operands.
    [TestCase(true, false, 96, 96, 10752, 0.0)]
    [TestCase(false, false, 17, 45, 2 * 1024 + 37, 0.5)]
    [TestCase(false, true, 30, 31, 3 * 1024, 0.0)]
    [TestCase(true, true, 14, 64, 2 * 1024 + 1, -1.0)]
    public void SplitAlongKMatchesTheReference(bool transA, bool transB, int m, int n, int k, double beta)
    {
        Assert.That(GemmSplitK.Applies(m, n, k), Is.True, "the shape must take the split-k path");
        GemmCheck.AgainstReference(transA, transB, m, n, k, 1.5f, (float)beta, seed: 31, padA: 3, padB: 2, padC: 5);
        GemmCheck.AgainstReference(transA, transB, m, n, k, 1.5, beta, seed: 32, padA: 1, padB: 0, padC: 2);
    }

    [Test]
    public void SmallKnownProduct()
    {
        // (2,3)·(3,2) by hand: [[1,2,3],[4,5,6]] · [[7,8],[9,10],[11,12]] = [[58,64],[139,154]].
        float[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10, 11, 12];
        var c = new float[4];
        Gemm.Run(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2);
        Assert.That(c, Is.EqualTo(new[] { 58f, 64f, 139f, 154f }));
    }
}

/// <summary>Random operands and the comparison of <see cref="Gemm"/> with <see cref="GemmReference"/>.</summary>
static class GemmCheck
{
    /// <summary>Values in [−1, 1) from a fixed seed.</summary>
    public static T[] Random<T>(int length, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var values = new T[length];
        for (int i = 0; i < length; i++) values[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>A stored (rows, cols) matrix with row stride cols + pad; the padding holds <paramref name="fill"/>.</summary>
    public static T[] Matrix<T>(int rows, int cols, int pad, T fill, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = Random<T>(rows * (cols + pad), seed);
        for (int r = 0; r < rows; r++)
        {
            for (int j = cols; j < cols + pad; j++) values[r * (cols + pad) + j] = fill;
        }
        return values;
    }

    /// <summary>
    /// Runs Gemm and GemmReference on the same random operands and checks every element of C within
    /// tolerance · (|alpha|·|A|·|B| + |beta|·|C|) (a bound on the rounding error of either), and that
    /// the padding of C is untouched. Padding of A and B is NaN, so reading it would show.
    /// </summary>
    public static void AgainstReference<T>(bool transA, bool transB, int m, int n, int k, T alpha, T beta, int seed,
        int padA = 0, int padB = 0, int padC = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T tolerance = T.CreateChecked(typeof(T) == typeof(float) ? 1e-5 : 1e-12);
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        var a = Matrix(transA ? k : m, transA ? m : k, padA, T.NaN, seed);
        var b = Matrix(transB ? n : k, transB ? k : n, padB, T.NaN, seed + 1000);
        var c0 = Matrix(m, n, padC, T.CreateChecked(12345), seed + 2000);
        if (beta == T.Zero) Array.Fill(c0, T.NaN); // must be ignored, not multiplied by zero

        var expected = (T[])c0.Clone();
        GemmReference.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        var actual = (T[])c0.Clone();
        Gemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc);

        // The error bound: the same product on absolute values (padding zeroed so NaN stays out).
        var bound = Abs(c0, beta == T.Zero);
        GemmReference.Run(transA, transB, m, n, k, T.Abs(alpha), Abs(a, true), lda, Abs(b, true), ldb, T.Abs(beta), bound, ldc);

        string what = $"{typeof(T).Name} transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta}";
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                int at = i * ldc + j;
                if (j >= n)
                {
                    Assert.That(actual[at], Is.EqualTo(c0[at]), $"{what}: padding C[{i}, {j}] was written");
                    continue;
                }
                T allowed = tolerance * bound[at] + T.Epsilon;
                if (!(T.Abs(actual[at] - expected[at]) <= allowed))
                {
                    Assert.Fail($"{what}: C[{i}, {j}] = {actual[at]}, reference {expected[at]}, allowed error {allowed}");
                }
            }
        }
    }

    static T[] Abs<T>(T[] values, bool nanToZero) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = nanToZero && T.IsNaN(values[i]) ? T.Zero : T.Abs(values[i]);
        return result;
    }
}
