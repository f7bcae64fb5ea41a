using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using static Forge.Tests.Kernels.KernelTestData;
using Forge.Tests.Kernels;

namespace Forge.Tests.Ilgpu;

[IlgpuParityFixtures]
public class IlgpuGemmTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void Run_AllTransposes_MatchesReference(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB,
        [Values(1, 7, 33)] int m, [Values(1, 40)] int n, [Values(1, 7, 33)] int k)
    {
        // Leading dimensions a little wider than a row, so row strides are exercised too.
        int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
        var a = Uniform<T>((transA ? k : m) * lda, seed: m * 100 + k);
        var b = Uniform<T>((transB ? n : k) * ldb, seed: n * 100 + k + 1);
        var c = Uniform<T>(m * ldc, seed: 7);
        T alpha = T.CreateChecked(1.5), beta = T.CreateChecked(-0.5);
        var expected = (T[])c.Clone();
        GemmReference.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);

        var cView = Upload(c);
        IlgpuGemm.Run(Backend, transA, transB, m, n, k, alpha, Upload(a), lda, Upload(b), ldb, beta, cView, ldc);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C", scale: k);
    }

    /// <summary>
    /// Few output tiles and a long k: the product is split along k (<see cref="IlgpuGemm.SplitK"/>) on the
    /// emulator and on a GPU alike, and the split partial products must add up to the reference.
    /// </summary>
    [Test]
    public void Run_LongK_SplitAlongKMatchesReference(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB, [Values(0.0, -0.5)] double betaValue)
    {
        const int m = 5, n = 7, k = 700;
        Assert.That(IlgpuGemm.SplitK(tiles: 1, k, sliceDepth: 16, parallelGroups: 264).Splits, Is.GreaterThan(1), "k is long enough to split on a GPU");
        int lda = transA ? m : k, ldb = transB ? k : n;
        var a = Uniform<T>(m * k, seed: 11);
        var b = Uniform<T>(k * n, seed: 12);
        var c = Uniform<T>(m * n, seed: 13);
        T alpha = T.CreateChecked(1.25), beta = T.CreateChecked(betaValue);
        var expected = (T[])c.Clone();
        GemmReference.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, n);
        var cView = Upload(c);
        IlgpuGemm.Run(Backend, transA, transB, m, n, k, alpha, Upload(a), lda, Upload(b), ldb, beta, cView, n);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C", scale: k);
    }

    [Test]
    public void RunBatched_LongK_SplitAlongKMatchesReference()
    {
        const int batch = 3, m = 9, n = 11, k = 500;
        long strideA = m * k + 3, strideB = k * n, strideC = m * n + 2;
        var a = Uniform<T>((int)(strideA * batch), seed: 21);
        var b = Uniform<T>((int)(strideB * batch), seed: 22);
        var c = Uniform<T>((int)(strideC * batch), seed: 23);
        var expected = (T[])c.Clone();
        T alpha = T.CreateChecked(0.5), beta = T.One;
        GemmReference.RunBatched(false, true, m, n, k, alpha, a, k, strideA, b, k, strideB, beta, expected, n, strideC, batch);
        var cView = Upload(c);
        IlgpuGemm.RunBatched(Backend, false, true, m, n, k, alpha, Upload(a), k, strideA, Upload(b), k, strideB, beta, cView, n, strideC, batch);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C", scale: k);
    }

    /// <summary>
    /// The bias added in the store equals, bit for bit, the old way (the bias rows written into C, then the product
    /// added with beta = 1): tiled, split along k, k = 0 and alpha = 0; C is NaN first and wider than n.
    /// </summary>
    [TestCase(7, 40, 33, 1.5)]
    [TestCase(5, 7, 700, 1.25)]   // split along k
    [TestCase(3, 5, 0, 1.0)]      // k = 0: C is the bias rows
    [TestCase(4, 6, 3, 0.0)]      // alpha = 0: likewise
    public void RunWithBias_EqualsBiasRowsThenBetaOne(int m, int n, int k, double alphaValue)
    {
        int ldc = n + 2;
        T alpha = T.CreateChecked(alphaValue);
        var a = Uniform<T>(Math.Max(1, m * k), seed: 31);
        var b = Uniform<T>(Math.Max(1, k * n), seed: 32);
        var bias = Uniform<T>(n, seed: 33);
        var rows = Enumerable.Repeat(T.NaN, m * ldc).ToArray();
        for (int i = 0; i < m; i++) bias.CopyTo(rows, i * ldc);
        var expected = Upload(rows);
        IlgpuGemm.Run(Backend, false, false, m, n, k, alpha, Upload(a), Math.Max(1, k), Upload(b), n, T.One, expected, ldc);
        var actual = Upload(Enumerable.Repeat(T.NaN, m * ldc).ToArray());
        IlgpuGemm.RunWithBias(Backend, false, false, m, n, k, alpha, Upload(a), Math.Max(1, k), Upload(b), n, Upload(bias), actual, ldc);
        var (want, got) = (Download(expected), Download(actual));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.That(got[i * ldc + j], Is.EqualTo(want[i * ldc + j]), $"C[{i}, {j}]");
    }

    [Test]
    public void Run_BetaZero_IgnoresNaNInC()
    {
        const int m = 5, n = 6, k = 4;
        var a = Uniform<T>(m * k, seed: 1);
        var b = Uniform<T>(k * n, seed: 2);
        var c = Enumerable.Repeat(T.NaN, m * n).ToArray();
        var expected = new T[m * n];
        GemmReference.Run(false, false, m, n, k, T.One, a, k, b, n, T.Zero, expected, n);
        var cView = Upload(c);
        IlgpuGemm.Run(Backend, false, false, m, n, k, T.One, Upload(a), k, Upload(b), n, T.Zero, cView, n);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C");
    }

    [Test]
    public void Run_KZeroOrAlphaZero_ScalesC([Values(0, 3)] int k, [Values(0.0, 2.0)] double betaValue)
    {
        const int m = 3, n = 5;
        T beta = T.CreateChecked(betaValue), alpha = k == 0 ? T.One : T.Zero;
        var a = Uniform<T>(Math.Max(1, m * k), seed: 1);
        var b = Uniform<T>(Math.Max(1, k * n), seed: 2);
        var c = Uniform<T>(m * n, seed: 3);
        var expected = (T[])c.Clone();
        GemmReference.Run(false, false, m, n, k, alpha, a, Math.Max(1, k), b, n, beta, expected, n);
        var cView = Upload(c);
        IlgpuGemm.Run(Backend, false, false, m, n, k, alpha, Upload(a), Math.Max(1, k), Upload(b), n, beta, cView, n);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C");
    }

    [Test]
    public void RunBatched_StridesAndBroadcast_MatchReference(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB, [Values(0, 1)] int broadcastB)
    {
        const int batch = 3, m = 9, n = 11, k = 6;
        int lda = transA ? m : k, ldb = transB ? k : n;
        long strideA = m * k + 5, strideB = broadcastB == 1 ? 0 : k * n + 2, strideC = m * n + 1;
        var a = Uniform<T>((int)(strideA * batch), seed: 1);
        var b = Uniform<T>((int)Math.Max(k * n, strideB * batch), seed: 2);
        var c = Uniform<T>((int)(strideC * batch), seed: 3);
        var expected = (T[])c.Clone();
        T alpha = T.CreateChecked(0.75), beta = T.One;
        GemmReference.RunBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, expected, n, strideC, batch);
        var cView = Upload(c);
        IlgpuGemm.RunBatched(Backend, transA, transB, m, n, k, alpha, Upload(a), lda, strideA, Upload(b), ldb, strideB,
            beta, cView, n, strideC, batch);
        KernelAssert.Close<T>(expected, Download(cView), Tol, "C", scale: k);
    }

    [Test]
    public void Run_ShortView_Throws()
    {
        var a = Upload(new T[5]);
        var ex = Assert.Throws<ArgumentException>(() =>
            IlgpuGemm.Run(Backend, false, false, 2, 3, 4, T.One, a, 4, a, 3, T.Zero, a, 3));
        Assert.That(ex!.Message, Does.Contain("Gemm"));
    }
}
