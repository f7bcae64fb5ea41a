using Forge.Experiments.Sorting;
using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;

namespace Forge.Tests.Devices;

/// <summary>
/// The sorting experiment's training on the ILGPU emulator gives the losses the CPU path gives, step by
/// step, to float32 precision (the acceptance for the device back end), and the model trained
/// there copies back to the CPU for analysis with the same weights.
/// </summary>
public class SortingOnDeviceTests
{
    // A small recipe: the emulator runs every GPU thread as an OS thread.
    static readonly SortingRecipe Tiny = new()
    {
        ListLength = 4, MaxValue = 12, Heads = 2, DModel = 16, DHead = 8, TrainSize = 64, ValSize = 16, BatchSize = 8, Epochs = 1,
    };

    [Test]
    public void AFewTrainingStepsGiveTheSameLossesOnCpuAndIlgpuCpu()
    {
        const int steps = 4;
        var cpu = new SortingRun(Tiny, seed: 3, steps, CpuDevice.Instance);
        var emulator = new SortingRun(Tiny, seed: 3, steps, IlgpuDevice.Get(IlgpuDeviceKind.CpuEmulation));
        Assert.That(emulator.Model.Device.Name, Is.EqualTo("ilgpu-cpu"));
        for (int step = 0; step < steps; step++)
        {
            double cpuLoss = cpu.Step(step), emulatorLoss = emulator.Step(step);
            Assert.That(emulatorLoss, Is.EqualTo(cpuLoss).Within(2e-5 * Math.Abs(cpuLoss)), $"loss of step {step}");
        }

        var copied = emulator.Model.ToDevice(CpuDevice.Instance);
        Assert.That(copied.Device, Is.EqualTo(CpuDevice.Instance));
        for (int i = 0; i < copied.Parameters.Count; i++)
        {
            // b_K's gradient is exactly zero in exact arithmetic (softmax ignores a shift shared by all
            // keys): both devices feed Adam rounding noise there, which it scales up to ±lr per step.
            if (copied.Parameters.All[i].Name!.EndsWith("b_K", StringComparison.Ordinal)) continue;
            var expected = cpu.Model.Parameters.All[i].Data.ToArray();
            var actual = copied.Parameters.All[i].Data.ToArray();
            for (int j = 0; j < expected.Length; j++)
                Assert.That(actual[j], Is.EqualTo(expected[j]).Within(1e-4f * (1 + MathF.Abs(expected[j]))), $"{copied.Parameters.All[i].Name}[{j}]");
        }
    }
}
