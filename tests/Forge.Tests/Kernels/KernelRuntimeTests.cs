using Forge.Kernels;
using Forge.Kernels.Threading;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

/// <summary>
/// Properties every CPU kernel promises beyond its numbers: nothing allocated per call, and
/// bitwise the same result whatever the thread count. Sizes are large enough to take the parallel
/// paths.
/// </summary>
[NonParallelizable]
public class KernelRuntimeTests
{
    const int Rows = 256, Cols = 515, N = Rows * Cols;

    /// <summary>Buffers shared by the kernel sweep, allocated once.</summary>
    sealed class Buffers
    {
        public readonly float[] X = Uniform<float>(N, seed: 1, low: -3, high: 3);
        public readonly float[] Dy = Uniform<float>(N, seed: 2);
        public readonly float[] Y = new float[N], Dx = new float[N], Probs = new float[N];
        public readonly float[] Row = Uniform<float>(Cols, seed: 3, low: 0.5, high: 1.5), Bias = Uniform<float>(Cols, seed: 4);
        public readonly float[] DRow = new float[Cols], DBias = new float[Cols];
        public readonly float[] PerRow = new float[Rows], PerRow2 = new float[Rows], Mask = Uniform<float>(Rows, seed: 5, low: 0, high: 1);
        public readonly float[] M = new float[N], V = new float[N], Table = Uniform<float>(64 * Cols, seed: 6);
        public readonly int[] Targets = Indices(Rows, Cols, seed: 7), Ids = Indices(Rows, 64, seed: 8), Argmax = new int[Rows];
        public readonly int[] Shape = [Rows, Cols], Contiguous = [Cols, 1], Broadcast = [0, 1], Transposed = [1, Rows];
        public readonly int[] TargetShape = [Cols];
    }

    /// <summary>Every kernel, on the shared buffers (static lambdas: invoking them allocates nothing).</summary>
    static readonly (string name, Action<Buffers> run)[] Kernels =
    [
        ("Elementwise.Unary", b => Elementwise.Unary(UnaryOp.Exp, b.X, b.Y)),
        ("Elementwise.UnaryBackward", b => Elementwise.UnaryBackward(UnaryOp.Tanh, b.X, b.Y, b.Dy, b.Dx)),
        ("Elementwise.Binary", b => Elementwise.Binary(BinaryOp.Mul, b.Shape, b.X, 0, b.Contiguous, b.Row, 0, b.Broadcast, b.Y)),
        ("Elementwise.Binary", b => Elementwise.Binary(BinaryOp.Add, b.Shape, b.X, 0, b.Transposed, b.Row, 0, b.Broadcast, b.Y)),
        ("Elementwise.Copy", b => Elementwise.Copy(b.Shape, b.X, 0, b.Transposed, b.Y)),
        ("Elementwise.AddStrided", b => Elementwise.AddStrided(b.Shape, b.Dy, b.Dx, 0, b.Transposed)),
        ("Elementwise.ReduceBroadcast", b => Elementwise.ReduceBroadcast(b.Shape, b.Dy, b.TargetShape, b.DBias)),
        ("Elementwise.Axpy", b => Elementwise.Axpy(0.5f, b.X, b.Dx)),
        ("Reduce.Sum", b => Reduce.Sum(b.X, Rows, Cols, 1, b.PerRow)),
        ("Reduce.Sum", b => Reduce.Sum(b.X, 1, Rows, Cols, b.DRow)),
        ("Reduce.Max", b => Reduce.Max(b.X, Rows, Cols, 1, b.PerRow, b.Argmax)),
        ("Softmax.Forward", b => Softmax.Forward(b.X, b.Y, Rows, Cols)),
        ("Softmax.Backward", b => Softmax.Backward(b.Y, b.Dy, b.Dx, Rows, Cols)),
        ("Softmax.ForwardCausal", b => Softmax.ForwardCausal(b.X.AsSpan(0, 2 * 256 * 256), b.Y, 2, 256)),
        ("CrossEntropy.Forward", b => CrossEntropy.Forward(b.X, b.Targets, b.Mask, b.Probs, b.PerRow, Rows, Cols)),
        ("CrossEntropy.Backward", b => CrossEntropy.Backward(b.Probs, b.Targets, b.Mask, 1f, b.Dx, Rows, Cols)),
        ("LayerNorm.Forward", b => LayerNorm.Forward(b.X, b.Row, b.Bias, b.Y, b.PerRow, b.PerRow2, Rows, Cols, 1e-5f)),
        ("LayerNorm.Backward", b => LayerNorm.Backward(b.Dy, b.X, b.Row, b.PerRow, b.PerRow2, b.Dx, b.DRow, b.DBias, Rows, Cols)),
        ("Gelu.Forward", b => Gelu.Forward(b.X, b.Y)),
        ("Gelu.Backward", b => Gelu.Backward(b.X, b.Dy, b.Dx)),
        ("Embedding.Gather", b => Embedding.Gather(b.Ids, b.Table, b.Y, 64, Cols)),
        ("Embedding.ScatterAdd", b => Embedding.ScatterAdd(b.Ids, b.Dy, b.Table, 64, Cols)),
        ("Optimizers.AdamW", b => Optimizers.AdamW(b.Probs, b.Dy, b.M, b.V, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1)),
        ("Optimizers.Sgd", b => Optimizers.Sgd(b.Probs, b.Dy, b.M, 1e-3f, 0.9f, 0f)),
        ("Reduce.SumOfSquares<float>", b => Reduce.SumOfSquares<float>(b.Dx)),
    ];

    static void RunAll(Buffers b)
    {
        foreach (var (_, run) in Kernels) run(b);
    }

    [Test]
    public void Kernels_AllocateNothingPerCall()
    {
        var buffers = new Buffers();
        RunAll(buffers); // warm up: JIT, worker threads
        foreach (var (name, run) in Kernels)
        {
            // Counted over all threads (workers included); the test host allocates now and then on
            // its own threads, so take the best of a few runs.
            long fewest = long.MaxValue;
            for (int attempt = 0; attempt < 5 && fewest > 0; attempt++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                run(buffers);
                fewest = Math.Min(fewest, GC.GetTotalAllocatedBytes(precise: true) - before);
            }
            Assert.That(fewest, Is.Zero, $"bytes allocated by {name}");
        }
    }

    [Test]
    public void Kernels_GiveTheSameBitsOnOneThreadAndMany()
    {
        int threads = ForkJoin.Threads;
        var parallel = new Buffers();
        var serial = new Buffers();
        try
        {
            ForkJoin.Threads = Math.Max(2, threads);
            RunAll(parallel);
            ForkJoin.Threads = 1;
            RunAll(serial);
        }
        finally { ForkJoin.Threads = threads; }
        KernelAssert.Equal<float>(serial.Y, parallel.Y, "Y");
        KernelAssert.Equal<float>(serial.Dx, parallel.Dx, "Dx");
        KernelAssert.Equal<float>(serial.DRow, parallel.DRow, "DRow");
        KernelAssert.Equal<float>(serial.DBias, parallel.DBias, "DBias");
        KernelAssert.Equal<float>(serial.Probs, parallel.Probs, "Probs");
        KernelAssert.Equal<float>(serial.Table, parallel.Table, "Table");
        KernelAssert.Equal<float>(serial.M, parallel.M, "M");
    }
}
