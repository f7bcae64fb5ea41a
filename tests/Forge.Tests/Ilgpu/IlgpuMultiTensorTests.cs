using System.Numerics;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

/// <summary>
/// Many tensors per launch (<see cref="IlgpuMultiTensor"/>): bit-identical to the one-tensor kernels, tensors
/// of awkward and empty sizes, more tensors than one launch holds, one launch per group of eight.
/// </summary>
[IlgpuParityFixtures]
public class IlgpuMultiTensorTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    // 11 tensors: two launches; an empty one and a one-element one among them.
    static readonly int[] Sizes = [33, 1, 0, 96, 7, 129, 2, 16, 5, 0, 64];

    ArrayView1D<T, Stride1D.Dense>[] UploadAll(int seed, double low = -1, double high = 1) =>
        Sizes.Select((n, i) => Upload(Uniform<T>(n, seed: seed * 100 + i, low: low, high: high))).ToArray();

    [Test]
    public void FillMany_FillsEveryTensor_TwoLaunchesForElevenTensors()
    {
        var ys = UploadAll(seed: 1);
        long launches = Backend.Launches;
        IlgpuMultiTensor.Fill<T>(Backend, ys, T.CreateChecked(-2.5));
        Assert.That(Backend.Launches - launches, Is.EqualTo(2), "⌈11 / 8⌉ launches");
        for (int i = 0; i < ys.Length; i++)
            Assert.That(Download(ys[i]), Is.All.EqualTo(T.CreateChecked(-2.5)), $"tensor {i} ({Sizes[i]} elements)");
    }

    [Test]
    public void ScaleInPlace_IsBitIdenticalToTensorByTensor()
    {
        var one = UploadAll(seed: 5);
        var many = UploadAll(seed: 5);
        T alpha = T.CreateChecked(0.3);
        foreach (var x in one) IlgpuElementwise.Scale(Backend, x, alpha, x);
        long launches = Backend.Launches;
        IlgpuMultiTensor.ScaleInPlace<T>(Backend, many, alpha);
        Assert.That(Backend.Launches - launches, Is.EqualTo(2), "⌈11 / 8⌉ launches");
        for (int i = 0; i < Sizes.Length; i++) Assert.That(Download(many[i]), Is.EqualTo(Download(one[i])), $"tensor {i}");
    }

    [Test]
    public void AdamMany_IsBitIdenticalToTensorByTensor([Values(false, true)] bool decoupled, [Values(0.0, 0.1)] double weightDecay)
    {
        T lr = T.CreateChecked(1e-2), beta1 = T.CreateChecked(0.9), beta2 = T.CreateChecked(0.999), eps = T.CreateChecked(1e-8);
        T wd = T.CreateChecked(weightDecay);
        var (p1, g1, m1, v1) = (UploadAll(1), UploadAll(2), UploadAll(3, -0.1, 0.1), UploadAll(4, 0, 0.01));
        var (p2, g2, m2, v2) = (UploadAll(1), UploadAll(2), UploadAll(3, -0.1, 0.1), UploadAll(4, 0, 0.01));
        for (int step = 1; step <= 3; step++)
        {
            for (int i = 0; i < Sizes.Length; i++)
                if (decoupled) IlgpuOptimizers.AdamW(Backend, p1[i], g1[i], m1[i], v1[i], lr, beta1, beta2, eps, wd, step);
                else IlgpuOptimizers.Adam(Backend, p1[i], g1[i], m1[i], v1[i], lr, beta1, beta2, eps, wd, step);
            long launches = Backend.Launches;
            IlgpuOptimizers.AdamMany<T>(Backend, decoupled, p2, g2, m2, v2, lr, beta1, beta2, eps, wd, step);
            Assert.That(Backend.Launches - launches, Is.EqualTo(2), "⌈11 / 8⌉ launches");
        }
        for (int i = 0; i < Sizes.Length; i++)
        {
            Assert.That(Download(p2[i]), Is.EqualTo(Download(p1[i])), $"param {i}");
            Assert.That(Download(m2[i]), Is.EqualTo(Download(m1[i])), $"m {i}");
            Assert.That(Download(v2[i]), Is.EqualTo(Download(v1[i])), $"v {i}");
        }
    }

    [Test]
    public void SumOfSquares_IsBitIdenticalToTensorByTensor_InTwoLaunchesPerGroup()
    {
        // Long tensors need several groups and a second pass; short ones one group, written directly.
        int[] sizes = [3000, 1, 0, 96, 7000, 129, 2, 16, 5, 0, 64, 2500];
        var xs = sizes.Select((n, i) => Upload(Uniform<T>(n, seed: 40 + i))).ToArray();
        var one = Upload(new T[sizes.Length]);
        for (int i = 0; i < xs.Length; i++) IlgpuReduce.SumOfSquares(Backend, xs[i], one.SubView(i, 1));
        var many = Upload(new T[sizes.Length]);
        long launches = Backend.Launches;
        IlgpuMultiTensor.SumOfSquares<T>(Backend, xs, many);
        Assert.That(Backend.Launches - launches, Is.EqualTo(4), "two groups of tensors, each with a second pass");
        Assert.That(Download(many), Is.EqualTo(Download(one)));
    }

    [Test]
    public void AdamMany_RejectsMismatchedLists()
    {
        var p = UploadAll(1);
        Assert.Throws<ArgumentException>(() => IlgpuOptimizers.AdamMany<T>(Backend, true, p, p[..3], p, p,
            T.One, T.One, T.One, T.One, T.Zero, 1));
        var shorter = Upload(Uniform<T>(5, seed: 9));
        var grads = UploadAll(2);
        grads[0] = shorter;
        Assert.That(() => IlgpuOptimizers.AdamMany<T>(Backend, true, p, grads, UploadAll(3), UploadAll(4), T.One, T.One, T.One, T.One, T.Zero, 1),
            Throws.InstanceOf<ArgumentException>());
    }
}
