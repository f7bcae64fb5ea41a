using Forge.Experiments.Affine;
using Forge.Experiments.Benchmarks;
using Forge.Experiments.Framework;
using Forge.Experiments.Language;
using Forge.Experiments.Retrieval;
using Forge.Experiments.Sorting;
using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;

namespace Forge.Tests.Devices;

/// <summary>
/// What a training step costs a GPU beyond its arithmetic, checked without one (issue 17): the kernel
/// launches each of the four models' steps queues, and the times the host waits for the device.
/// The steps are the benchmark's (<see cref="TrainingCases"/>: replay, read the loss, zero, backward, clip,
/// update, as the trainer runs them) on ILGPU's CPU emulator, with the experiments' own architectures (layers, heads, MLPs, norms, losses, optimizers)
/// at small widths: launch counts follow the graph, not the widths, except where a reduction is split
/// (the emulator's split points are not the H100's, so the budgets are for this device).
/// <para>
/// The budgets are today's counts (docs/performance.md, "GPU work that needs no GPU"): a change
/// that adds launches fails here and must say why in that table; a change that removes them lowers the
/// budget.
/// </para>
/// </summary>
public class LaunchBudgetTests
{
    /// <summary>A step's launch count and its host waits, phase by phase.</summary>
    public sealed record Cost(long Launches, long ForwardWaits, long LossReadWaits, long BackwardAndUpdateWaits, long ClipWaits, int ParameterTensors);

    // Launches per step measured on the emulator (see the class summary); the budget is this count.
    [TestCase("sorting", 78)]
    [TestCase("affine", 229)]
    [TestCase("retrieval", 154)]
    [TestCase("lm", 322)]
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
        var model = TrainingCases.Parse(name);
        var step = TrainingCases.Build(model, Narrow(TrainingCases.DefaultRecipe(model)), seed: 5, device);
        long launches = 0, forward = 0, lossRead = 0, backwardAndUpdate = 0, clipWaits = 0;
        for (int i = 0; i < 2; i++)
        {
            backend.StartLaunchTally();
            long launchesBefore = backend.Launches, waits = backend.HostWaits;
            step.Forward();
            forward = backend.HostWaits - waits;
            waits = backend.HostWaits;
            float value = step.Loss;
            Assert.That(float.IsFinite(value), $"{name}: loss {value}");
            lossRead = backend.HostWaits - waits;
            waits = backend.HostWaits;
            step.Backward();
            long beforeClip = backend.HostWaits;
            step.Clip();
            clipWaits = backend.HostWaits - beforeClip;
            long afterClip = backend.HostWaits;
            step.Update();
            backwardAndUpdate = beforeClip - waits + (backend.HostWaits - afterClip);
            launches = backend.Launches - launchesBefore;
        }
        foreach (var (kernel, count) in backend.LaunchesByKernel()) TestContext.Out.WriteLine($"  {count,4}  {kernel}");
        backend.StopLaunchTally();
        return new Cost(launches, forward, lossRead, backwardAndUpdate, clipWaits, step.Parameters.Count);
    }

    /// <summary>The experiment's recipe at small widths and batch (layers, heads, MLPs, norms, losses and optimizer as they are).</summary>
    static Recipe Narrow(Recipe recipe) => recipe switch
    {
        SortingRecipe sorting => sorting with { DModel = 16, DHead = 8, BatchSize = 4 },
        AffineRecipe affine => affine with { DModel = 16, DHead = 4, DMlp = 32, BatchSize = 4 },
        RetrievalRecipe retrieval => retrieval with { DModel = 16, DHead = 4, BatchSize = 4 },
        LmRecipe lm => lm with { DModel = 16, DHead = 4, DMlp = 32, BatchSize = 2 },
        _ => throw new ArgumentOutOfRangeException(nameof(recipe), recipe, null),
    };
}
