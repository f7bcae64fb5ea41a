using System.Numerics;
using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary><see cref="Gemm.RunBatched{T}"/> against <see cref="GemmReference.RunBatched{T}"/>, including stride-0 broadcast.</summary>
public class GemmBatchedTests
{
    [TestCase(false, false, 21, 21, 48, 8)]   // attention-head sized: many tiny matrices
    [TestCase(false, true, 21, 21, 48, 12)]
    [TestCase(true, false, 48, 21, 21, 5)]
    [TestCase(true, true, 7, 33, 15, 3)]
    [TestCase(false, false, 170, 170, 170, 2)] // big enough that each matrix is split by rows instead
    [TestCase(false, true, 1, 1, 1, 4)]
    public void MatchesReference(bool transA, bool transB, int m, int n, int k, int batch)
    {
        Check<float>(transA, transB, m, n, k, batch, broadcastA: false, broadcastB: false, 1e-5);
        Check<double>(transA, transB, m, n, k, batch, broadcastA: false, broadcastB: false, 1e-12);
    }

    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void StrideZeroBroadcasts(bool broadcastA, bool broadcastB)
    {
        Check<float>(false, true, 19, 23, 40, 6, broadcastA, broadcastB, 1e-5);
        Check<double>(true, false, 30, 9, 11, 4, broadcastA, broadcastB, 1e-12);
    }

    [Test]
    public void ZeroBatchTouchesNothing()
    {
        var c = new[] { 3f };
        Gemm.RunBatched<float>(false, false, 1, 1, 1, 1f, [], 1, 1, [], 1, 1, 0f, c, 1, 1, batch: 0);
        Assert.That(c[0], Is.EqualTo(3f));
    }

    /// <summary>
    /// Matrices sit at strides larger than their extent (gaps between them hold NaN), C starts from
    /// random values with beta = 0.5, and each result element is checked within its error bound.
    /// </summary>
    static void Check<T>(bool transA, bool transB, int m, int n, int k, int batch, bool broadcastA, bool broadcastB, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
        long strideA = broadcastA ? 0 : m * k + 3, strideB = broadcastB ? 0 : k * n + 5, strideC = m * n + 2;
        var a = Operand<T>(m * k, strideA, batch, seed: 1);
        var b = Operand<T>(k * n, strideB, batch, seed: 2);
        var c0 = Operand<T>(m * n, strideC, batch, seed: 3);
        T alpha = T.CreateChecked(1.5), beta = T.CreateChecked(0.5);

        var expected = (T[])c0.Clone();
        GemmReference.RunBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, expected, ldc, strideC, batch);
        var actual = (T[])c0.Clone();
        Gemm.RunBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, actual, ldc, strideC, batch);

        // Bound per element: |alpha|·k·max|a|·max|b| + |beta|·|c| with all values in [−1, 1].
        T bound = T.Abs(alpha) * T.CreateChecked(k) + T.Abs(beta);
        T allowed = T.CreateChecked(tolerance) * bound;
        for (int i = 0; i < actual.Length; i++)
        {
            bool bothNaN = T.IsNaN(actual[i]) && T.IsNaN(expected[i]); // gaps between matrices
            if (!bothNaN && !(T.Abs(actual[i] - expected[i]) <= allowed))
            {
                Assert.Fail($"{typeof(T).Name} batch={batch} m={m} n={n} k={k}: element {i} = {actual[i]}, reference {expected[i]}");
            }
        }
    }

    /// <summary>batch matrices of <paramref name="size"/> elements at <paramref name="stride"/>; gaps are NaN.</summary>
    static T[] Operand<T>(int size, long stride, int batch, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = (int)((batch - 1) * stride + size);
        var values = new T[length];
        Array.Fill(values, T.NaN);
        var random = GemmCheck.Random<T>(length, seed);
        for (int i = 0; i < batch; i++) Array.Copy(random, i * stride, values, i * stride, size);
        return values;
    }
}
