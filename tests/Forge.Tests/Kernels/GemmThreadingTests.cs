using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>
/// Threads decide only who computes a tile, never the order of a sum: results are bit-identical for
/// any <see cref="ForkJoin.Threads"/>, and steady-state calls allocate nothing.
/// </summary>
[NonParallelizable]
public class GemmThreadingTests
{
    int _savedThreads;

    [SetUp] public void SaveThreads() => _savedThreads = ForkJoin.Threads;
    [TearDown] public void RestoreThreads() => ForkJoin.Threads = _savedThreads;

    // Shapes that split across threads: many row blocks, several k blocks, several column panels (n > 2048).
    [TestCase(false, false, 300, 200, 600)]
    [TestCase(true, true, 257, 129, 300)]
    [TestCase(false, true, 40, 2100, 30)]
    [TestCase(true, false, 10752 / 8, 96, 96)]
    // Split along k (GemmSplitK): small C, long k with a ragged last chunk — a weight gradient's shape.
    [TestCase(true, false, 96, 96, 10752)]
    [TestCase(true, true, 33, 50, 2 * GemmSplitK.ChunkDepth + 37)]
    public void OneAndTwoThreadsGiveIdenticalBits(bool transA, bool transB, int m, int n, int k)
    {
        float[] single = Multiply(transA, transB, m, n, k, threads: 1);
        float[] dual = Multiply(transA, transB, m, n, k, threads: 2);
        Assert.That(dual, Is.EqualTo(single).AsCollection);
    }

    [Test]
    public void BatchedIsIdenticalForOneAndTwoThreads()
    {
        const int m = 21, n = 21, k = 48, batch = 16;
        var a = GemmCheck.Random<double>(batch * m * k, seed: 1);
        var b = GemmCheck.Random<double>(batch * k * n, seed: 2);
        double[] RunWith(int threads)
        {
            ForkJoin.Threads = threads;
            var c = new double[batch * m * n];
            Gemm.RunBatched(false, true, m, n, k, 1.0, a, k, m * k, b, k, k * n, 0.0, c, n, m * n, batch);
            return c;
        }
        Assert.That(RunWith(2), Is.EqualTo(RunWith(1)).AsCollection);
    }

    [TestCase(1)]
    [TestCase(2)]
    public void SteadyStateCallsAllocateNothing(int threads)
    {
        ForkJoin.Threads = threads;
        const int m = 200, n = 96, k = 300;
        var a = GemmCheck.Random<float>(m * k, seed: 1);
        var b = GemmCheck.Random<float>(n * k, seed: 2);
        var c = new float[m * n];
        for (int i = 0; i < 3; i++) Gemm.Run(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n); // warm: buffers, JIT
        // Three windows of 10 calls: an allocation per call shows in all of them; a one-off of the runtime's
        // (a tiering or class-initialisation step landing in a window: 7,984 B once in a CI run) in one only.
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Gemm.Run(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.That(windows.Min(), Is.Zero, $"bytes allocated per window of 10 calls: {string.Join(", ", windows)}");
    }

    static float[] Multiply(bool transA, bool transB, int m, int n, int k, int threads)
    {
        ForkJoin.Threads = threads;
        var a = GemmCheck.Random<float>(m * k, seed: 7);
        var b = GemmCheck.Random<float>(k * n, seed: 8);
        var c = GemmCheck.Random<float>(m * n, seed: 9);
        Gemm.Run(transA, transB, m, n, k, 0.75f, a, transA ? m : k, b, transB ? k : n, 0.25f, c, n);
        return c;
    }
}
