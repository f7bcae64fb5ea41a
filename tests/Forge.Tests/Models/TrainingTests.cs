using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

public class TrainingTests
{
    static readonly TransformerConfig Config = TransformerTests.Gpt with { NLayers = 1, NCtx = 6 };

    /// <summary>A toy task: copy the previous token (targets are the next token, so predict tokens[p+1] = f(tokens)). Sequences are random.</summary>
    static FixedTokenDataset<float> Dataset(int count, int batchSize, ulong seed)
    {
        var rng = new Rng(seed);
        var sequences = new int[count * 6];
        for (int i = 0; i < sequences.Length; i++) sequences[i] = rng.NextInt(11);
        return new FixedTokenDataset<float>(sequences, 6, [0, 1, 1, 1, 1, 0], batchSize, seed);
    }

    sealed record Run(Transformer<float> Model, Adam<float> Optimizer, Trainer<float, TokenBatch<float>> Trainer)
    {
        /// <summary>Steps <paramref name="from"/> … <paramref name="to"/> − 1; the last loss.</summary>
        public double Steps(int from, int to)
        {
            double loss = double.NaN;
            for (int step = from; step < to; step++) loss = Trainer.Step(step);
            return loss;
        }
    }

    static Run NewRun(FixedTokenDataset<float> data, int batchSize)
    {
        var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(5));
        var optimizer = new Adam<float>(model.Parameters.All, 1e-2, weightDecay: 0.01);
        var schedule = new LearningRateSchedule.PerEpochLinear(1e-2, 1e-3, 4, data.StepsPerEpoch);
        var trainer = new Trainer<float, TokenBatch<float>>(optimizer, schedule, data, new TokenBatch<float>(batchSize, 6),
            batch => model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask)) { ClipNorm = 1.0 };
        return new Run(model, optimizer, trainer);
    }

    [Test]
    public void ResumingFromSavedStateReproducesAnUninterruptedRunBitForBit()
    {
        var data = Dataset(50, 16, 1);   // 4 steps per epoch, the last one short (padded)
        var full = NewRun(data, 16);
        double fullLoss = full.Steps(0, 12);

        var first = NewRun(data, 16);
        first.Steps(0, 7);
        var resumed = NewRun(data, 16);
        for (int i = 0; i < first.Model.Parameters.Count; i++)
            first.Model.Parameters.All[i].Data.AsSpan().CopyTo(resumed.Model.Parameters.All[i].Data.AsSpan());
        foreach (var ((_, from), (_, to)) in first.Optimizer.State().Zip(resumed.Optimizer.State())) to.CopyFrom(from);
        resumed.Optimizer.StepCount = first.Optimizer.StepCount;
        double resumedLoss = resumed.Steps(7, 12);

        Assert.That(resumedLoss, Is.EqualTo(fullLoss));
        for (int i = 0; i < full.Model.Parameters.Count; i++)
            Assert.That(resumed.Model.Parameters.All[i].Data.ToArray(), Is.EqualTo(full.Model.Parameters.All[i].Data.ToArray()), full.Model.Parameters.All[i].Name);
    }

    [Test]
    public void ReplayedStepsMatchEagerlyRecordedSteps()
    {
        var data = Dataset(64, 16, 2);
        var replayed = NewRun(data, 16);
        replayed.Steps(0, 5);

        var eager = NewRun(data, 16);
        var batch = new TokenBatch<float>(16, 6);
        for (int step = 0; step < 5; step++)
        {
            data.Fill(step, batch);
            var tape = new Tape<float>();
            Var<float> loss;
            using (tape.Record()) loss = eager.Model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);
            eager.Optimizer.ZeroGrad();
            tape.Backward(loss);
            GradientClipping.ClipGlobalNorm(eager.Optimizer.Parameters, 1.0);
            eager.Optimizer.LearningRate = new LearningRateSchedule.PerEpochLinear(1e-2, 1e-3, 4, data.StepsPerEpoch).At(step);
            eager.Optimizer.Step();
        }
        for (int i = 0; i < eager.Model.Parameters.Count; i++)
            Assert.That(replayed.Model.Parameters.All[i].Data.ToArray(), Is.EqualTo(eager.Model.Parameters.All[i].Data.ToArray()));
    }

    [Test]
    public void NaNLossStopsTrainingBeforeTheUpdateAndNamesTheStep()
    {
        var data = Dataset(32, 16, 3);
        var run = NewRun(data, 16);
        run.Steps(0, 2);
        var before = run.Model.Parameters.All.Select(p => p.Data.ToArray()).ToArray();
        run.Model.Parameters["unembed.b_U"].Data.AsSpan()[3] = float.NaN;
        var e = Assert.Throws<TrainingDivergedException>(() => run.Trainer.Step(2))!;
        Assert.That(e.Step, Is.EqualTo(2));
        Assert.That(e.Message, Does.Contain("step 2"));
        Assert.That(run.Optimizer.StepCount, Is.EqualTo(2), "no update was applied");
        Assert.That(run.Model.Parameters["embed.W_E"].Data.ToArray(), Is.EqualTo(before[0]));
    }

    [Test]
    public void EpochOrderDependsOnlyOnSeedAndEpochAndCoversEverySequenceOnce()
    {
        var data = Dataset(50, 16, 4);
        var seen = new List<int>();
        var batch = new TokenBatch<float>(16, 6);
        var firstOfEpoch1 = new int[6];
        for (int step = 4; step < 8; step++)
        {
            data.Fill(step, batch);
            for (int row = 0; row < 16; row++)
                if (batch.Mask[row, 1] != 0) seen.Add(FindSequence(data, batch, row));
            if (step == 4) batch.Tokens.Select(0, 0).ToArray().CopyTo(firstOfEpoch1, 0);
        }
        Assert.That(seen.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 50)));
        data.Fill(0, batch);
        data.Fill(4, batch); // same epoch again, after another epoch was drawn: same order
        Assert.That(batch.Tokens.Select(0, 0).ToArray(), Is.EqualTo(firstOfEpoch1));
    }

    static int FindSequence(FixedTokenDataset<float> data, TokenBatch<float> batch, int row)
    {
        var tokens = batch.Tokens.Select(0, row).ToArray();
        for (int i = 0; i < data.Count; i++) if (data.Sequence(i).SequenceEqual(tokens)) return i;
        return -1;
    }

    [Test]
    public void EvaluatorAgreesWithTheLossOp()
    {
        var data = Dataset(40, 16, 6);
        var run = NewRun(data, 16);
        run.Steps(0, 3);
        var metrics = new TokenEvaluator<float>(run.Model, data, 64).Evaluate();
        var all = new TokenBatch<float>(40, 6);
        data.FillInOrder(0, all);
        float loss;
        using (GradMode.NoGrad()) loss = run.Model.Forward(all.Tokens).CrossEntropy(all.Targets, all.Mask).Item();
        Assert.That(metrics.Loss, Is.EqualTo(loss).Within(1e-5));
        Assert.That(metrics.Count, Is.EqualTo(40 * 4));
        Assert.That(metrics.Reliability.Sum(b => b.Count), Is.EqualTo(metrics.Count));
        Assert.That(metrics.Accuracy, Is.InRange(0.0, 1.0));
        Assert.That(metrics.MeanConfidence, Is.GreaterThanOrEqualTo(metrics.MeanCorrectProbability - 1e-12)); // max p ≥ p[target] row by row
    }

    [Test]
    public void SchedulesFollowTheirFormulas()
    {
        var perEpoch = new LearningRateSchedule.PerEpochLinear(1e-3, 1e-4, 25, 293);
        Assert.That(perEpoch.At(0), Is.EqualTo(1e-3));
        Assert.That(perEpoch.At(292), Is.EqualTo(1e-3));
        Assert.That(perEpoch.At(293), Is.EqualTo(1e-3 - 0.9e-3 / 24).Within(1e-15));
        Assert.That(perEpoch.At(25 * 293 - 1), Is.EqualTo(1e-4).Within(1e-15));
        var cosine = new LearningRateSchedule.WarmupCosine(1e-3, 10, 110);
        Assert.That(cosine.At(0), Is.EqualTo(1e-4).Within(1e-15));
        Assert.That(cosine.At(9), Is.EqualTo(1e-3).Within(1e-15));
        Assert.That(cosine.At(60), Is.EqualTo(0.5e-3).Within(1e-12));
        Assert.That(cosine.At(110), Is.EqualTo(0).Within(1e-15));
        Assert.That(new LearningRateSchedule.Linear(1, 0, 11).At(5), Is.EqualTo(0.5));
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Parse("step", 1, 0, 1, 1, 0));
    }

    [Test]
    public void ClippingScalesTheGlobalNorm()
    {
        var a = Var<double>.Parameter(Tensor.Zeros<double>(2));
        var b = Var<double>.Parameter(Tensor.Zeros<double>(1));
        a.Grad.AsSpan()[0] = 3; b.Grad.AsSpan()[0] = 4;   // norm 5
        double norm = GradientClipping.ClipGlobalNorm([a, b], 1.0);
        Assert.That(norm, Is.EqualTo(5));
        Assert.That(a.Grad[0], Is.EqualTo(0.6).Within(1e-6));
        Assert.That(b.Grad[0], Is.EqualTo(0.8).Within(1e-6));
    }
}

public class FreshSamplesTests
{
    [Test]
    public void EachStepGetsItsOwnReproducibleBatch()
    {
        var source = new FreshSamples<double[]>(seed: 9, (rng, batch) => { for (int i = 0; i < batch.Length; i++) batch[i] = rng.NextDouble(); });
        double[] a = new double[4], b = new double[4], c = new double[4];
        source.Fill(5, a);
        source.Fill(6, b);
        source.Fill(5, c);
        Assert.That(c, Is.EqualTo(a), "step 5 again: same batch (what resuming relies on)");
        Assert.That(b, Is.Not.EqualTo(a));
        Assert.That(source.StepsPerEpoch, Is.EqualTo(0));
    }
}
