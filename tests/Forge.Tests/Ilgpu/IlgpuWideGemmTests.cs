using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

/// <summary>
/// The wide float GEMM (<see cref="GemmWideKernels"/>, opt-in through <see cref="IlgpuBackend.WideGemm"/>) against the
/// reference on ILGPU's CPU emulator with GPU-sized groups (32 × 8 = 256 threads): every transpose, ragged edges in
/// m, n and k, leading dimensions wider than a row, split-k, batches, beta, and the bias epilogue. (Its speed is for a GPU
/// to measure: <c>GpuGemmBenchmarks</c>.)
/// </summary>
[NonParallelizable]
public class IlgpuWideGemmTests
{
    IlgpuBackend _backend = null!;

    [OneTimeSetUp]
    public void CreateBackend()
    {
        _backend = IlgpuBackend.CreateCpuEmulation(threadsPerWarp: 32, warpsPerGroup: 8);
        _backend.WideGemm = true;
    }

    [OneTimeTearDown]
    public void DisposeBackend() => _backend.Dispose();

    MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] data) => _backend.Upload<float>(data);

    float[] Download(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        _backend.Synchronize();
        return buffer.GetAsArray1D();
    }

    static void AssertClose(float[] expected, float[] actual, int k)
    {
        float tolerance = 1e-5f * (k + 1);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance * (1 + MathF.Abs(expected[i]))), $"C[{i}]");
    }

    [Test]
    public void Run_AllTransposes_RaggedEdges_MatchReference(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB, [Values(new[] { 1, 1, 1 }, new[] { 130, 67, 21 }, new[] { 7, 200, 9 })] int[] mnk)
    {
        int m = mnk[0], n = mnk[1], k = mnk[2];
        int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
        var a = Uniform<float>((transA ? k : m) * lda, seed: m + k);
        var b = Uniform<float>((transB ? n : k) * ldb, seed: n + k);
        var c = Uniform<float>(m * ldc, seed: 7);
        var expected = (float[])c.Clone();
        GemmReference.Run(transA, transB, m, n, k, 1.5f, a, lda, b, ldb, -0.5f, expected, ldc);
        var cBuffer = Upload(c);
        _backend.StartLaunchTally();
        IlgpuGemm.Run(_backend, transA, transB, m, n, k, 1.5f, Upload(a).View, lda, Upload(b).View, ldb, -0.5f, cBuffer.View, ldc);
        Assert.That(_backend.LaunchesByKernel().Select(p => p.Key), Does.Contain("GemmWideKernels.Tiled"), "the wide kernel ran");
        _backend.StopLaunchTally();
        Assert.That(_backend.LaunchesByKernel(), Is.Empty, "stopped");
        AssertClose(expected, Download(cBuffer), k);
    }

    [Test]
    public void Run_LongK_SplitAlongK_MatchesReference()
    {
        const int m = 5, n = 7, k = 700;
        Assert.That(IlgpuGemm.SplitK(tiles: 1, k, GemmWideKernels.Depth, _backend.ParallelGroups).Splits, Is.GreaterThan(1), "split");
        var a = Uniform<float>(m * k, seed: 1);
        var b = Uniform<float>(k * n, seed: 2);
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        var expected = new float[m * n];
        GemmReference.Run(false, true, m, n, k, 1f, a, k, b, k, 0f, expected, n);
        var cBuffer = Upload(c);
        IlgpuGemm.Run(_backend, false, true, m, n, k, 1f, Upload(a).View, k, Upload(b).View, k, 0f, cBuffer.View, n);
        AssertClose(expected, Download(cBuffer), k);
    }

    [Test]
    public void RunBatched_MatchesReference()
    {
        const int batch = 3, m = 33, n = 20, k = 11;
        long strideA = m * k + 1, strideB = k * n, strideC = m * n + 2;
        var a = Uniform<float>((int)(strideA * batch), seed: 3);
        var b = Uniform<float>((int)(strideB * batch), seed: 4);
        var c = Uniform<float>((int)(strideC * batch), seed: 5);
        var expected = (float[])c.Clone();
        GemmReference.RunBatched(false, false, m, n, k, 0.5f, a, k, strideA, b, n, strideB, 1f, expected, n, strideC, batch);
        var cBuffer = Upload(c);
        IlgpuGemm.RunBatched(_backend, false, false, m, n, k, 0.5f, Upload(a).View, k, strideA, Upload(b).View, n, strideB, 1f, cBuffer.View, n, strideC, batch);
        AssertClose(expected, Download(cBuffer), k);
    }

    [Test]
    public void RunWithBias_AddsTheBiasRow()
    {
        const int m = 9, n = 130, k = 17;
        var a = Uniform<float>(m * k, seed: 6);
        var b = Uniform<float>(n * k, seed: 7);
        var bias = Uniform<float>(n, seed: 8);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++) bias.CopyTo(expected, i * n);
        GemmReference.Run(false, true, m, n, k, 1f, a, k, b, k, 1f, expected, n);
        var cBuffer = Upload(Enumerable.Repeat(float.NaN, m * n).ToArray());
        IlgpuGemm.RunWithBias(_backend, false, true, m, n, k, 1f, Upload(a).View, k, Upload(b).View, k, Upload(bias).View, cBuffer.View, n);
        AssertClose(expected, Download(cBuffer), k);
    }

    [Test]
    public void WideGemm_OnSmallGroups_IsRefused()
    {
        using var small = IlgpuBackend.CreateCpuEmulation();
        Assert.Throws<NotSupportedException>(() => small.WideGemm = true);
    }
}
