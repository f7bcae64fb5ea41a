using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Experiments.Benchmarks;
using Forge.Kernels.Threading;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

/// <summary>
/// A batch cut into micro-batches (<see cref="MicroBatchGradient{T}"/>) gives the loss and gradient of
/// the whole batch (up to rounding: float64 here, so to 1e-11 of the largest gradient), weighs padding and uneven parts as one
/// pass does, gives the same bits on one thread and two, and allocates nothing per step.
/// </summary>
public class MicroBatchTests
{
    static readonly TransformerConfig Config = TransformerTests.Gpt with { NLayers = 2, NCtx = 6 };

    static FixedTokenDataset<T> Dataset<T>(int count, int batchSize, ulong seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var sequences = new int[count * 6];
        for (int i = 0; i < sequences.Length; i++) sequences[i] = rng.NextInt(11);
        return new FixedTokenDataset<T>(sequences, 6, [T.Zero, T.One, T.One, T.One, T.One, T.Zero], batchSize, seed);
    }

    static MicroBatchGradient<T> Gradient<T>(Transformer<T> model, TokenBatch<T> batch, int parts) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        MicroBatches.Of(model, batch, parts, static (m, b) => m.Forward(b.Tokens).CrossEntropy(b.Targets, b.Mask));

    [TestCase(1, 3)]    // a full batch of 16 in parts of 6, 5, 5
    [TestCase(3, 3)]    // the epoch's short last batch: 2 real rows, 14 padding rows
    [TestCase(1, 16)]   // one row per part
    [TestCase(3, 16)]   // most parts all padding (weight 0)
    public void MicroBatchesGiveTheWholeBatchsLossAndGradient(int step, int parts)
    {
        var data = Dataset<double>(50, 16, 1);   // 4 steps per epoch; step 3 holds 50 − 48 = 2 lists
        var model = new Transformer<double>(Config, Initialization.Gpt2, new Rng(5));
        var batch = new TokenBatch<double>(16, 6);
        data.Fill(step, batch);

        var whole = Gradient(model, batch, 1);
        whole.Forward();
        double wholeLoss = whole.Loss();
        whole.Backward();
        var expected = model.Parameters.All.Select(p => p.Grad.ToArray()).ToArray();
        // One scale for all: some gradients are exactly zero in exact arithmetic (a key bias shifts every score of a row alike) and rounding noise there.
        double scale = expected.Max(g => g.Max(Math.Abs));

        var split = Gradient(model, batch, parts);
        Assert.That(split.Count, Is.EqualTo(parts));
        for (int repeat = 0; repeat < 2; repeat++)   // recorded, then replayed (gradients overwritten, not accumulated)
        {
            split.ForwardBackward();
            Assert.That(split.Loss(), Is.EqualTo(wholeLoss).Within(1e-12 * Math.Abs(wholeLoss)), "loss");
            for (int i = 0; i < expected.Length; i++)
            {
                var actual = model.Parameters.All[i].Grad.ToArray();
                for (int j = 0; j < actual.Length; j++)
                    Assert.That(actual[j], Is.EqualTo(expected[i][j]).Within(1e-11 * scale), $"{model.Parameters.All[i].Name}[{j}]");
            }
        }
    }

    [Test]
    public void ReplicasShareTheWeightsButNotTheGradients()
    {
        var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(1));
        var replica = model.SharingWeights();
        for (int i = 0; i < model.Parameters.Count; i++)
        {
            Assert.That(replica.Parameters.All[i].Name, Is.EqualTo(model.Parameters.All[i].Name));
            Assert.That(replica.Parameters.All[i].Data, Is.SameAs(model.Parameters.All[i].Data));
            Assert.That(replica.Parameters.All[i].Grad, Is.Not.SameAs(model.Parameters.All[i].Grad));
        }
    }

    [Test]
    public void TrainingWithMicroBatchesGivesTheSameBitsOnOneThreadAndTwo()
    {
        float[][] Train(int threads)
        {
            int before = ForkJoin.Threads;
            ForkJoin.Threads = threads;
            try
            {
                var data = Dataset<float>(80, 16, 2);
                var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(3));
                var optimizer = new Adam<float>(model.Parameters.All, 1e-2, weightDecay: 0.01, decoupled: true);
                var schedule = new LearningRateSchedule.PerEpochLinear(1e-2, 1e-3, 2, data.StepsPerEpoch);
                var batch = new TokenBatch<float>(16, 6);
                var trainer = new Trainer<float, TokenBatch<float>>(optimizer, schedule, data, batch, Gradient(model, batch, 4)) { ClipNorm = 1.0 };
                for (int step = 0; step < 8; step++) trainer.Step(step);
                return model.Parameters.All.Select(p => p.Data.ToArray()).ToArray();
            }
            finally { ForkJoin.Threads = before; }
        }

        var one = Train(1);
        var two = Train(2);
        for (int i = 0; i < one.Length; i++) Assert.That(two[i], Is.EqualTo(one[i]), $"parameter {i}");
    }

    /// <summary>
    /// Lanes change where a part is computed, not what: the loss and gradient equal, bit for bit, one replica per part
    /// (each recorded on its own rows, its backward seeded with its weight) summed in part order — on one thread and
    /// two, uneven parts (two kinds of lanes), padding parts, recorded and then replayed on other data.
    /// </summary>
    [TestCase(3, 1)]
    [TestCase(3, 2)]
    [TestCase(5, 2)]    // parts of 4, 3, 3, 3, 3 rows: one lane for the 4-row kind, two for the 3-row kind
    [TestCase(16, 2)]   // one row per part; in step 3 most are padding (weight 0)
    public void Lanes_GiveTheBitsOfOneReplicaPerPart(int parts, int threads)
    {
        int before = ForkJoin.Threads;
        ForkJoin.Threads = threads;
        try
        {
            var data = Dataset<float>(50, 16, 4);
            var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(6));
            var batch = new TokenBatch<float>(16, 6);
            var gradient = Gradient(model, batch, parts);
            foreach (int step in new[] { 0, 3, 1 })
            {
                data.Fill(step, batch);
                var (expectedLoss, expected) = OneReplicaPerPart(model, batch, parts);
                Assert.That(gradient.TryLossAndGradient(out double loss), Is.True);
                Assert.That(loss, Is.EqualTo(expectedLoss), $"step {step}: loss");
                for (int i = 0; i < expected.Length; i++)
                    Assert.That(model.Parameters.All[i].Grad.ToArray(), Is.EqualTo(expected[i]).AsCollection, $"step {step}: {model.Parameters.All[i].Name}");
            }
            var kinds = MicroBatches.Slices(16, parts).GroupBy(s => s.Count);
            Assert.That(gradient.Lanes, Is.EqualTo(kinds.Sum(k => Math.Min(k.Count(), threads))), "one lane per kind of part and thread");
        }
        finally { ForkJoin.Threads = before; }
    }

    /// <summary>
    /// Parts finish in any order on two threads and their gradients are added as soon as every part before them is done,
    /// by whichever thread holds the adding: hundreds of steps of tiny parts (one row each, some all padding), each must
    /// give the one-thread bits.
    /// </summary>
    [Test]
    public void PartsAddedAsTheyFinish_GiveTheOneThreadBits_StepAfterStep()
    {
        var data = Dataset<float>(50, 16, 7);
        var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(9));
        var batch = new TokenBatch<float>(16, 6);
        var gradients = new[] { Gradient(model, batch, 16), Gradient(model, batch, 16) };   // one for each thread count
        float[][] Gradients(int threads, int step)
        {
            int before = ForkJoin.Threads;
            ForkJoin.Threads = threads;
            try
            {
                data.Fill(step, batch);
                Assert.That(gradients[threads - 1].TryLossAndGradient(out _), Is.True);
                return model.Parameters.All.Select(p => p.Grad.ToArray()).ToArray();
            }
            finally { ForkJoin.Threads = before; }
        }
        for (int step = 0; step < 300; step++)
        {
            var one = Gradients(1, step % 4);
            var two = Gradients(2, step % 4);
            for (int i = 0; i < one.Length; i++)
                if (!one[i].SequenceEqual(two[i])) Assert.Fail($"step {step}: {model.Parameters.All[i].Name} differs on two threads");
        }
    }

    // The definition: part c on a replica of its own, backward seeded with w_c = terms_c / Σ terms, gradients added in part order.
    static (double Loss, float[][] Gradients) OneReplicaPerPart(Transformer<float> model, TokenBatch<float> batch, int parts)
    {
        var views = MicroBatches.Slices(batch.BatchSize, parts).Select(s => batch.Rows(s.Start, s.Count)).ToArray();
        double total = views.Sum(v => v.LossTerms());
        var sums = model.Parameters.All.Select(p => new float[p.Data.Length]).ToArray();
        double loss = 0;
        for (int c = 0; c < parts; c++)
        {
            double weight = total > 0 ? views[c].LossTerms() / total : 1.0 / parts;
            if (weight == 0) continue;   // adds zeros
            var replica = model.SharingWeights();
            var tape = new Tape<float>();
            Var<float> partLoss;
            using (tape.Record()) partLoss = replica.Forward(views[c].Tokens).CrossEntropy(views[c].Targets, views[c].Mask);
            tape.Backward(partLoss, Tensor.Full((float)weight));
            loss += weight * partLoss.Item();
            for (int i = 0; i < sums.Length; i++)
            {
                var g = replica.Parameters.All[i].Grad.ToArray();
                for (int j = 0; j < g.Length; j++) sums[i][j] = c == 0 ? g[j] : sums[i][j] + g[j];
            }
        }
        return (loss, sums);
    }

    [Test]
    public void AMicroBatchedTrainingStepAllocatesNothing()
    {
        int threads = ForkJoin.Threads;
        ForkJoin.Threads = 2;
        try
        {
            var step = TrainingCases.Build(TrainingCase.SortingBase, TrainingCases.SortingRecipe with { BatchSize = 64, MicroBatch = 8 });
            Assert.That(step.MicroBatches, Is.EqualTo(8));
            for (int i = 0; i < 3; i++) step.Run();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 5; i++) step.Run();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.That(allocated, Is.LessThan(1024), "bytes allocated over 5 steps, all threads (the runtime's own included)");
        }
        finally { ForkJoin.Threads = threads; }
    }

    [TestCase(512, 32, 16)]
    [TestCase(512, 0, 1)]
    [TestCase(8, 32, 1)]
    [TestCase(100, 32, 4)]
    [TestCase(33, 32, 2)]
    public void APartHoldsAboutTheMicroBatchSize(int rows, int microBatch, int parts) =>
        Assert.That(MicroBatches.Count(rows, microBatch), Is.EqualTo(parts));

    [Test]
    public void PartsAreContiguousAndDifferByAtMostOneRow()
    {
        Assert.That(MicroBatches.Slices(10, 3), Is.EqualTo(new[] { (0, 4), (4, 3), (7, 3) }));
        Assert.That(MicroBatches.Slices(512, 16).All(s => s.Count == 32), Is.True);
        Assert.Throws<ArgumentOutOfRangeException>(() => MicroBatches.Slices(4, 5));
    }
}
