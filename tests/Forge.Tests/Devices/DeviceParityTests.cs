using System.Numerics;
using Forge.Autograd;
using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;

namespace Forge.Tests.Devices;

/// <summary>
/// Every autograd op run through the ILGPU backend on ILGPU's CPU emulator (the GPU kernels, no GPU
/// needed) against the SIMD CPU path: the same graph on both devices must give the same loss and the
/// same gradients — to float32 rounding in float32 and to 1e-10 in float64 (the CPU gradients are
/// those checked against finite differences in OpGradientTests, so this carries the gradient check
/// over to the device). Shapes are tiny and awkward: the emulator is ~1000× slower than plain loops.
/// The same cases run on CUDA and OpenCL devices when present, and are reported as skipped otherwise.
/// </summary>
[TestFixture(IlgpuDeviceKind.CpuEmulation)]
[TestFixture(IlgpuDeviceKind.Cuda)]
[TestFixture(IlgpuDeviceKind.OpenCL)]
public class DeviceParityTests(IlgpuDeviceKind kind)
{
    IlgpuDevice Device
    {
        get
        {
            if (!IlgpuDevices.Has(kind)) Assert.Ignore($"No {kind} device on this machine.");
            return IlgpuDevice.Get(kind);
        }
    }

    static readonly Dictionary<string, int[][]> Shapes = new()
    {
        ["matmul+linear"] = [[3, 5, 7], [7, 4], [4]],
        ["batched matmul"] = [[2, 3, 5], [2, 5, 4]],
        ["transposed operand"] = [[2, 3, 5], [2, 4, 5]],
        ["broadcast add/sub/mul/div"] = [[3, 1, 5], [4, 5], [5]],
        ["unary"] = [[33]],
        ["reductions"] = [[3, 7, 5]],
        ["softmax"] = [[4, 7]],
        ["causal softmax"] = [[2, 5, 5]],
        ["layernorm+gelu"] = [[3, 7, 33], [33], [33]],
        ["views"] = [[2, 3, 4]],
        ["attention"] = [[2, 5, 3, 4], [2, 5, 3, 4], [2, 5, 3, 4]],
        ["embedding+cross-entropy"] = [[9, 6]],
    };

    /// <summary>The loss of each case, for any element type.</summary>
    static Var<T> Loss<T>(string name, Var<T>[] p) where T : unmanaged, IFloatingPointIeee754<T> => name switch
    {
        "matmul+linear" => p[0].Linear(p[1], p[2]).Tanh().Sum(),
        "batched matmul" => p[0].MatMul(p[1]).Square().Mean(),
        "transposed operand" => p[0].MatMul(p[1].Transpose(-1, -2)).Sum(),
        "broadcast add/sub/mul/div" => ((p[0] + p[1]) * p[2] - p[1] / (p[2].Square() + Constant<T>(1.5, p[0]))).Sum(),
        "unary" => (p[0].Exp() + p[0].Tanh() + p[0].Relu() + p[0].Abs() + p[0].Square().Sqrt()).Sum(),
        "reductions" => p[0].Sum(1).Square().Sum() + p[0].Mean(2).Sum() + p[0].Max(1).Sum(),
        "softmax" => (p[0].Softmax() * p[0]).Sum(),
        "causal softmax" => (p[0].CausalSoftmax() * p[0]).Sum(),
        "layernorm+gelu" => p[0].LayerNorm(p[1], p[2]).Gelu().Square().Mean(),
        "views" => p[0].Permute(2, 0, 1).Contiguous().Reshape(4, 6).Narrow(1, 1, 3).Square().Sum()
                   + p[0].Select(1, 2).Unsqueeze(0).Expand(5, 2, 4).Sum(),
        "attention" => Functional.CausalAttention(p[0], p[1], p[2]).Z.Square().Sum(),
        "embedding+cross-entropy" => EmbeddingCrossEntropy(p[0]) * T.CreateChecked(3),   // upstream gradient 3 reaches the CE backward
        _ => throw new ArgumentException(name),
    };

    // Token ids repeat (rows gathered twice get both gradients); the last position is masked out.
    static Var<T> EmbeddingCrossEntropy<T>(Var<T> table) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = table.Data.Device;
        var ids = Tensor.FromArray(new[] { 3, 0, 8, 3, 5, 1, 3 }, [7]).ToDevice(device);
        var targets = Tensor.FromArray(new[] { 1, 5, 0, 2, 2, 4, 0 }, [7]).ToDevice(device);
        var mask = Tensor.FromArray(new[] { T.One, T.One, T.One, T.One, T.One, T.One, T.Zero }, [7]).ToDevice(device);
        return table.Embedding(ids).CrossEntropy(targets, mask);
    }

    static Var<T> Constant<T>(double value, Var<T> like) where T : unmanaged, IFloatingPointIeee754<T> =>
        Var<T>.Constant(Tensor.FromArray([T.CreateChecked(value)], [1]).ToDevice(like.Data.Device));

    static IEnumerable<string> CaseNames() => Shapes.Keys;

    [TestCaseSource(nameof(CaseNames))]
    public void SameLossAndGradientsOnTheDevice_Float64(string name)
    {
        if (!Device.Accelerator.SupportsFloat64) Assert.Ignore($"{kind} has no float64 support.");
        Compare<double>(name, 1e-10);
    }

    [TestCaseSource(nameof(CaseNames))]
    public void SameLossAndGradientsOnTheDevice_Float32(string name) => Compare<float>(name, 3e-5);

    void Compare<T>(string name, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(11);
        var host = Shapes[name].Select(s => Tensor.Normal(rng, T.Zero, T.One, s)).ToArray();
        var (cpuLoss, cpuGrads) = Run(name, host, CpuDevice.Instance);
        var (emuLoss, emuGrads) = Run(name, host, Device);
        Assert.That(emuLoss, Is.EqualTo(cpuLoss).Within(tolerance * Math.Max(1, Math.Abs(cpuLoss))), $"{name}: loss");
        for (int i = 0; i < cpuGrads.Length; i++)
        {
            double scale = Math.Max(1, cpuGrads[i].Max(Math.Abs));
            for (int j = 0; j < cpuGrads[i].Length; j++)
                Assert.That(emuGrads[i][j], Is.EqualTo(cpuGrads[i][j]).Within(tolerance * scale), $"{name}: gradient of input {i} at {j}");
        }
    }

    /// <summary>Builds and differentiates the case on a device; the loss and every input's gradient come back as doubles.</summary>
    static (double Loss, double[][] Grads) Run<T>(string name, Tensor<T>[] host, Device device) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = host.Select(t => Var<T>.Parameter(t.ToDevice(device))).ToArray();
        var tape = new Tape<T>();
        Var<T> loss;
        using (tape.Record()) loss = Loss(name, parameters);
        tape.Backward(loss);
        Assert.That(loss.Data.Device, Is.EqualTo(device), "the graph ran where its inputs live");
        return (double.CreateChecked(loss.Data.First()),
            parameters.Select(p => p.Grad.ToArray().Select(g => double.CreateChecked(g)).ToArray()).ToArray());
    }
}
