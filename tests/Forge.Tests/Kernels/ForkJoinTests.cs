using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

public unsafe class ForkJoinTests
{
    struct FillState
    {
        public int* Output;
        public int Calls;
    }

    static void FillSquares(void* state, int begin, int end)
    {
        var s = (FillState*)state;
        for (int i = begin; i < end; i++) s->Output[i] = i * i;
        Interlocked.Increment(ref s->Calls);
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(1000)]
    [TestCase(100_003)]
    public void EveryIndexRunsExactlyOnce(int count)
    {
        var output = new int[count];
        fixed (int* p = output)
        {
            var state = new FillState { Output = p };
            ForkJoin.For(count, &state, &FillSquares);
            Assert.That(state.Calls, Is.GreaterThanOrEqualTo(1));
        }
        for (int i = 0; i < count; i++) Assert.That(output[i], Is.EqualTo(i * i));
    }

    static void RecordBlock(void* state, int begin, int end)
    {
        var s = (FillState*)state;
        for (int i = begin; i < end; i++) s->Output[i] = end - begin;   // each index: the size of the block that ran it
        Interlocked.Increment(ref s->Calls);
    }

    [TestCase(16, 1, 1)]
    [TestCase(16, 3, 3)]
    [TestCase(100, 1, 5)]
    public void BlocksStayWithinMaxBlock_AndCoverEveryIndexOnce(int count, int maxBlock, int minBlock)
    {
        int threads = ForkJoin.Threads;
        ForkJoin.Threads = 2;
        try
        {
            var output = new int[count];
            fixed (int* p = output)
            {
                var state = new FillState { Output = p };
                ForkJoin.For(count, &state, &RecordBlock, minBlock, maxBlock);
                int largest = Math.Max(minBlock, maxBlock);
                Assert.That(output, Has.All.InRange(1, largest), "block sizes");
                Assert.That(state.Calls, Is.GreaterThanOrEqualTo((count + largest - 1) / largest), "blocks run");
            }
        }
        finally { ForkJoin.Threads = threads; }
    }

    [Test]
    public void ManyBackToBackJobsAllComplete()
    {
        // Stresses the hand-over between jobs: a late worker must never run a block of the next job.
        var output = new int[257];
        fixed (int* p = output)
            for (int round = 0; round < 20_000; round++)
            {
                var state = new FillState { Output = p };
                ForkJoin.For(output.Length, &state, &FillSquares);
                if (output[256] != 256 * 256) Assert.Fail($"round {round} left work undone");
                output[256] = 0;
            }
    }

    static void Nested(void* state, int begin, int end)
    {
        var s = (FillState*)state;
        var inner = new FillState { Output = s->Output + begin };
        ForkJoin.For(end - begin, &inner, &FillSquaresOffset);
    }

    static void FillSquaresOffset(void* state, int begin, int end)
    {
        var s = (FillState*)state;
        for (int i = begin; i < end; i++) s->Output[i] = 1;
    }

    [Test]
    public void NestedCallsRunInlineWithoutDeadlock()
    {
        var output = new int[10_000];
        fixed (int* p = output)
        {
            var state = new FillState { Output = p };
            ForkJoin.For(output.Length, &state, &Nested, minBlock: 100);
        }
        Assert.That(output, Has.All.EqualTo(1));
    }

    static void Throws(void* state, int begin, int end)
    {
        if (begin <= 500 && 500 < end) throw new InvalidOperationException("block with index 500 failed");
    }

    [Test]
    public void AnExceptionInABlockReachesTheCaller()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ForkJoin.For(1000, null, &Throws))!;
        Assert.That(e.Message, Does.Contain("500"));
        // the pool still works afterwards
        EveryIndexRunsExactlyOnce(1000);
    }

    [Test]
    public void ThreadCountCanBeChangedAndIsValidated()
    {
        int original = ForkJoin.Threads;
        try
        {
            ForkJoin.Threads = 1;
            EveryIndexRunsExactlyOnce(1000);
            ForkJoin.Threads = 3;
            EveryIndexRunsExactlyOnce(1000);
            Assert.Throws<ArgumentOutOfRangeException>(() => ForkJoin.Threads = 0);
        }
        finally { ForkJoin.Threads = original; }
    }
}
