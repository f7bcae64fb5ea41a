using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>
/// <see cref="Denormals.FlushToZero"/>: with it on, a product whose exact value is denormal comes out 0 and a denormal
/// input reads as 0, on the calling thread and in every block a <see cref="ForkJoin"/> call runs; with it off, gradual
/// underflow is back.
/// </summary>
[NonParallelizable]
public unsafe class DenormalsTests
{
    int _savedThreads;

    [SetUp]
    public void Save()
    {
        if (!Denormals.IsSupported) Assert.Ignore("flushing denormals needs x86-64 Linux");
        _savedThreads = ForkJoin.Threads;
    }

    [TearDown]
    public void Restore()
    {
        if (!Denormals.IsSupported) return;
        Denormals.FlushToZero = false;
        ForkJoin.Threads = _savedThreads;
    }

    static readonly float[] s_operands = [1e-30f, 1e-10f, 1e-40f];   // the last one is itself denormal

    [Test]
    public void CallingThread_FlushesWhileOn_AndUnderflowsGraduallyAfter()
    {
        Denormals.FlushToZero = true;
        Assert.That(Denormals.ThisThreadFlushes(), Is.True);
        Assert.That(s_operands[0] * s_operands[1], Is.EqualTo(0f), "a denormal result is flushed");
        Assert.That(s_operands[2] * 1e10f, Is.EqualTo(0f), "a denormal input reads as zero");

        Denormals.FlushToZero = false;
        Assert.That(Denormals.ThisThreadFlushes(), Is.False);
        Assert.That(s_operands[0] * s_operands[1], Is.GreaterThan(0f).And.LessThan(1.17549435e-38f));
        Assert.That(s_operands[2] * 1e10f, Is.GreaterThan(1e-31f));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void EveryForkJoinBlock_RunsInTheMode(bool flush)
    {
        ForkJoin.Threads = 2;
        Denormals.FlushToZero = !flush;   // a change after the workers last ran must reach them too
        RunBlocks(new float[64], new int[64]);
        Denormals.FlushToZero = flush;
        for (int call = 0; call < 50; call++)
        {
            var products = new float[64];
            var flushed = new int[64];
            RunBlocks(products, flushed);
            for (int i = 0; i < products.Length; i++)
            {
                Assert.That(flushed[i], Is.EqualTo(flush ? 1 : 0), $"call {call}, block {i}: the thread's mode");
                if (flush) Assert.That(products[i], Is.EqualTo(0f), $"call {call}, block {i}");
                else Assert.That(products[i], Is.GreaterThan(0f), $"call {call}, block {i}");
            }
        }
    }

    static void RunBlocks(float[] products, int[] flushed)
    {
        fixed (float* p = products)
        fixed (int* f = flushed)
        {
            var state = new BlockState { Products = p, Flushed = f };
            ForkJoin.For(products.Length, &state, &Block, minBlock: 1, maxBlock: 1);
        }
    }

    struct BlockState { public float* Products; public int* Flushed; }

    static void Block(void* state, int begin, int end)
    {
        var s = (BlockState*)state;
        for (int i = begin; i < end; i++)
        {
            Thread.SpinWait(200);   // long enough that the worker takes some of the blocks
            s->Products[i] = s_operands[0] * s_operands[1];
            s->Flushed[i] = Denormals.ThisThreadFlushes() ? 1 : 0;
        }
    }
}
