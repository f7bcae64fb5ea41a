using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Kernels.Threading;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

/// <summary>The hot training loop allocates nothing per step (regression: ZeroGrad once boxed an enumerator).</summary>
public class AllocationTests
{
    [Test]
    public void AReplayedTrainingStepAllocatesNothing()
    {
        int threads = ForkJoin.Threads;
        ForkJoin.Threads = 1;
        try
        {
            var model = new Transformer<float>(TransformerTests.Gpt, Initialization.Gpt2, new Rng(1));
            var batch = new TokenBatch<float>(8, 8);
            var rng = new Rng(2);
            var sequence = new int[8];
            var mask = Enumerable.Repeat(1f, 8).ToArray();
            for (int row = 0; row < 8; row++)
            {
                for (int p = 0; p < 8; p++) sequence[p] = rng.NextInt(11);
                batch.SetRow(row, sequence, mask);
            }
            var tape = new Tape<float>();
            Var<float> loss;
            using (tape.Record()) loss = model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);
            var optimizer = new Adam<float>(model.Parameters.All, 1e-3, weightDecay: 0.01, decoupled: true);
            void Step()
            {
                tape.Replay();
                optimizer.ZeroGrad();
                tape.Backward(loss);
                GradientClipping.ClipGlobalNorm(optimizer.Parameters, 1.0);
                optimizer.Step();
            }
            for (int i = 0; i < 3; i++) Step();   // first calls allocate lazily (gradients, scratch)
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) Step();
            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0), "bytes allocated by 5 steady-state steps");
        }
        finally { ForkJoin.Threads = threads; }
    }
}
