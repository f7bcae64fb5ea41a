using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Experiments.Affine;
using Forge.Experiments.Framework;
using Forge.Experiments.Language;
using Forge.Experiments.Retrieval;
using Forge.Experiments.Sorting;
using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Devices;

/// <summary>
/// What a training step costs a GPU beyond its arithmetic, checked without one (issue 17): the kernel
/// launches each of the four models' steps queues, and the times the host waits for the device.
/// The steps are the trainer's (replay, read the loss, zero, backward, clip, update) on ILGPU's CPU
/// emulator, with the experiments' own architectures (layers, heads, MLPs, norms, losses, optimizers)
/// at small widths: launch counts follow the graph, not the widths, except where a reduction is split
/// (the emulator's split points are not the H100's, so the budgets are for this device).
/// <para>
/// The budgets are today's counts (docs/performance.md, "Launches and host waits per step"): a change
/// that adds launches fails here and must say why in that table; a change that removes them lowers the
/// budget.
/// </para>
/// </summary>
public class LaunchBudgetTests
{
    /// <summary>A step's launch count and its host waits, phase by phase.</summary>
    public sealed record Cost(long Launches, long ForwardWaits, long LossReadWaits, long BackwardAndUpdateWaits, long ClipWaits, int ParameterTensors);

    // Launches per step measured on the emulator (see the class summary); the budget is this count.
    [TestCase("sorting", 115)]
    [TestCase("affine", 502)]
    [TestCase("retrieval", 243)]
    [TestCase("lm", 492)]
    public void ATrainingStep_StaysWithinItsLaunchBudget_AndWaitsForTheDeviceOnlyWhereTheTrainerMust(string name, int budget)
    {
        var cost = Measure(name);
        TestContext.Out.WriteLine($"{name}: {cost}");
        Assert.Multiple(() =>
        {
            Assert.That(cost.Launches, Is.LessThanOrEqualTo(budget), "kernel launches per step");
            // Forward, backward and the optimizer only queue kernels: a wait there would idle the GPU.
            Assert.That(cost.ForwardWaits, Is.Zero, "host waits in the replayed forward pass");
            Assert.That(cost.BackwardAndUpdateWaits, Is.Zero, "host waits in zeroing, backward and the optimizer step");
            // The trainer reads the loss before backward (it refuses to update on a NaN loss): one wait.
            Assert.That(cost.LossReadWaits, Is.EqualTo(1), "host waits to read the loss");
            // Global-norm clipping needs the norm on the host: one wait for all the parameter tensors.
            Assert.That(cost.ClipWaits, Is.EqualTo(name == "affine" ? 1 : 0), "host waits in gradient clipping");
        });
    }

    /// <summary>
    /// The device's Σ x² over several tensors (what clipping asks for) is the per-tensor sums added in order,
    /// bit for bit, and waits for the device once instead of once per tensor.
    /// </summary>
    [Test]
    public void SumOfSquaresOfSeveralTensors_IsThePerTensorSum_WithOneWait()
    {
        var device = IlgpuDevice.Get(IlgpuDeviceKind.CpuEmulation);
        var rng = new Rng(11);
        var tensors = new[] { 7, 1, 300, 33 }.Select(n => Tensor.Uniform(rng, -2f, 2f, [n]).ToDevice(device)).ToArray();
        var backend = Forge.Kernels.Backends.For<float>(device);
        double expected = 0;
        foreach (var t in tensors) expected += backend.SumOfSquares(t);
        long waits = device.Accelerator.HostWaits;
        double actual = backend.SumOfSquares(tensors.AsSpan());
        Assert.That(device.Accelerator.HostWaits - waits, Is.EqualTo(1), "host waits");
        Assert.That(actual, Is.EqualTo(expected), "the same number as tensor by tensor");
        Assert.That(actual, Is.EqualTo(tensors.Sum(t => t.ToArray().Sum(v => (double)v * v))).Within(1e-5).Percent, "Σ x²");
        Assert.That(backend.SumOfSquares(ReadOnlySpan<Tensor<float>>.Empty), Is.Zero);
    }

    /// <summary>Runs two steps of <paramref name="name"/> (the first loads kernels and fills the buffer pool) and measures the second.</summary>
    static Cost Measure(string name)
    {
        var device = IlgpuDevice.Get(IlgpuDeviceKind.CpuEmulation);
        var backend = device.Accelerator;
        var (tape, loss, optimizer, clip) = Build(name, device);
        long launches = 0, forward = 0, lossRead = 0, backwardAndUpdate = 0, clipWaits = 0;
        for (int step = 0; step < 2; step++)
        {
            backend.StartLaunchTally();
            long launchesBefore = backend.Launches, waits = backend.HostWaits;
            tape.Replay();
            forward = backend.HostWaits - waits;
            waits = backend.HostWaits;
            float value = loss.Item();
            Assert.That(float.IsFinite(value), $"{name}: loss {value}");
            lossRead = backend.HostWaits - waits;
            waits = backend.HostWaits;
            optimizer.ZeroGrad();
            tape.Backward(loss);
            long beforeClip = backend.HostWaits;
            if (clip > 0) GradientClipping.ClipGlobalNorm(optimizer.Parameters, clip);
            clipWaits = backend.HostWaits - beforeClip;
            long afterClip = backend.HostWaits;
            optimizer.Step();
            backwardAndUpdate = beforeClip - waits + (backend.HostWaits - afterClip);
            launches = backend.Launches - launchesBefore;
        }
        foreach (var (kernel, count) in backend.LaunchesByKernel()) TestContext.Out.WriteLine($"  {count,4}  {kernel}");
        return new Cost(launches, forward, lossRead, backwardAndUpdate, clipWaits, optimizer.Parameters.Count);
    }

    /// <summary>The experiment's model and loss at small widths, recorded once on <paramref name="device"/>.</summary>
    static (Tape<float> Tape, Var<float> Loss, Optimizer<float> Optimizer, double Clip) Build(string name, Device device)
    {
        var rng = new Rng(5);
        switch (name)
        {
            case "sorting":
            {
                var recipe = new SortingRecipe { DModel = 16, DHead = 8, BatchSize = 4 };
                return TokenStep(recipe.ModelConfig, Initialization.Sorting, recipe.BatchSize, recipe.Task.PositionMask(), rng, device,
                    p => new Adam<float>(p, recipe.LearningRate, weightDecay: recipe.WeightDecay));
            }
            case "retrieval":
            {
                var recipe = new RetrievalRecipe { DModel = 16, DHead = 4, BatchSize = 4 };
                return TokenStep(recipe.ModelConfig, recipe.Initialization, recipe.BatchSize, recipe.Task.PositionMask(), rng, device,
                    p => AdamW(p, recipe));
            }
            case "lm":
            {
                var recipe = new LmRecipe { DModel = 16, DHead = 4, DMlp = 32, BatchSize = 2 };
                var mask = new float[recipe.Context];
                for (int p = 0; p < mask.Length - 1; p++) mask[p] = 1;
                return TokenStep(recipe.ModelConfig, recipe.Initialization, recipe.BatchSize, mask, rng, device, p => AdamW(p, recipe));
            }
            case "affine":
            {
                var recipe = new AffineRecipe { DModel = 16, DHead = 4, DMlp = 32, BatchSize = 4 };
                var config = recipe.ModelConfig;
                var model = new Transformer<float>(config, recipe.Initialization, rng, device);
                var batch = new RegressionBatch<float>(recipe.BatchSize, config.NCtx, config.DIn!.Value, config.DVocabOut, device);
                Tensor.Uniform(rng, -1f, 1f, batch.HostInputs.Shape).AsSpan().CopyTo(batch.HostInputs.AsSpan());
                Tensor.Uniform(rng, -1f, 1f, batch.HostTargets.Shape).AsSpan().CopyTo(batch.HostTargets.AsSpan());
                batch.Upload();
                var tape = new Tape<float>();
                Var<float> loss;
                using (tape.Record()) loss = Functional.MseLoss(model.Forward(batch.Inputs), Var<float>.Constant(batch.Targets));
                return (tape, loss, AdamW(model.Parameters.All, recipe), recipe.ClipNorm);
            }
            default: throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    static Adam<float> AdamW(IEnumerable<Var<float>> parameters, GptRecipe recipe) =>
        new(parameters, recipe.LearningRate, weightDecay: recipe.WeightDecay, decoupled: true);

    static (Tape<float>, Var<float>, Optimizer<float>, double) TokenStep(TransformerConfig config, Initialization init, int batchSize,
        float[] positionMask, Rng rng, Device device, Func<IEnumerable<Var<float>>, Optimizer<float>> optimizer)
    {
        var model = new Transformer<float>(config, init, rng, device);
        var batch = new TokenBatch<float>(batchSize, config.NCtx, device);
        Span<int> tokens = batch.HostTokens.AsSpan(), targets = batch.HostTargets.AsSpan();
        Span<float> mask = batch.HostMask.AsSpan();
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.NextInt(config.DVocab);
            targets[i] = rng.NextInt(config.DVocabOut);
            mask[i] = positionMask[i % config.NCtx];
        }
        batch.Upload();
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);
        return (tape, loss, optimizer(model.Parameters.All), 0);
    }
}
