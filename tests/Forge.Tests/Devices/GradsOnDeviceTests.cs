using Forge.Experiments.Tools;
using Forge.Kernels.Devices;
using Forge.Models.Checkpoints;
using Forge.Tests.Experiments;
using Forge.Tests.Peers;

namespace Forge.Tests.Devices;

/// <summary>
/// <c>grads --device ilgpu-cpu</c> writes the gradients <c>grads</c> computes on the CPU (the peer
/// cases: sorting model, GPT with MLP, no-LN, continuous inputs), to float32 rounding.
/// </summary>
public class GradsOnDeviceTests
{
    static IEnumerable<TestCaseData> Cases() => PeerCase.All.Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(Cases))]
    public void GradientsOnTheEmulatorEqualTheCpus(PeerCase peerCase)
    {
        using var temp = new TempFolder();
        string checkpoint = temp.Combine("model.safetensors"), batch = temp.Combine("batch.safetensors");
        ModelCheckpoint.Save(checkpoint, peerCase.Model(seed: 7), step: 0, seed: 7);
        SafeTensors.Write(batch, peerCase.Batch(new Rng(8)));
        double cpuLoss = GradsCommand.Run(checkpoint, batch, temp.Combine("cpu.safetensors"), null, doublePrecision: false);
        double emuLoss = GradsCommand.Run(checkpoint, batch, temp.Combine("emu.safetensors"), null, doublePrecision: false,
            IlgpuDevice.Get(Forge.Kernels.Ilgpu.IlgpuDeviceKind.CpuEmulation));
        Assert.That(emuLoss, Is.EqualTo(cpuLoss).Within(1e-5 * Math.Abs(cpuLoss)));
        var cpu = SafeTensors.Read(temp.Combine("cpu.safetensors"));
        var emu = SafeTensors.Read(temp.Combine("emu.safetensors"));
        foreach (var name in cpu.Names)
        {
            var expected = cpu.GetDouble(name).ToArray();
            var actual = emu.GetDouble(name).ToArray();
            // Relative to the tensor's scale, with a floor: b_K's gradient is zero up to rounding (≈ 1e-9).
            double scale = Math.Max(1e-3, expected.Max(Math.Abs));
            for (int i = 0; i < expected.Length; i++)
                Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-4 * scale), $"{peerCase.Name}: {name}[{i}]");
        }
    }
}
