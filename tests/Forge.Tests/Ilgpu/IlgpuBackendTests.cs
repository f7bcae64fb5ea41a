using Forge.Kernels.Ilgpu;
using ILGPU.Runtime;

namespace Forge.Tests.Ilgpu;

/// <summary>Device discovery, kernel caching and the buffer pool (on the CPU emulator).</summary>
[TestFixture]
public class IlgpuBackendTests
{
    static IlgpuBackend Emulator => IlgpuTestDevices.Get(IlgpuDeviceKind.CpuEmulation);

    [Test]
    public void Available_ListsTheEmulator_AndPreferredGpuIsNeverTheEmulator()
    {
        var devices = IlgpuDevices.Available();
        Assert.That(devices.Any(d => d.Kind == IlgpuDeviceKind.CpuEmulation), Is.True);
        var preferred = IlgpuDevices.PreferredGpu();
        if (preferred is not null) Assert.That(preferred.Kind, Is.Not.EqualTo(IlgpuDeviceKind.CpuEmulation));
        bool hasGpu = devices.Any(d => d.Kind is IlgpuDeviceKind.Cuda or IlgpuDeviceKind.OpenCL);
        Assert.That(preferred is not null, Is.EqualTo(hasGpu));
        if (IlgpuDevices.Has(IlgpuDeviceKind.Cuda)) Assert.That(preferred!.Kind, Is.EqualTo(IlgpuDeviceKind.Cuda), "CUDA comes first");
    }

    /// <summary>
    /// Row groups are whole warps where the warp is a real one, and never 0 threads: OpenCL drivers report the preferred
    /// work-group multiple as the warp size (PoCL: 4,096), which rounded every row group down to nothing.
    /// </summary>
    [TestCase(256, 32, 256)]
    [TestCase(16, 4, 16)]
    [TestCase(250, 32, 224)]
    [TestCase(256, 4096, 256)]
    [TestCase(256, 0, 256)]
    [TestCase(256, 1, 256)]
    public void RowGroups_AreWholeWarps_AndNeverEmpty(int limit, int warpSize, int expected) =>
        Assert.That(IlgpuBackend.RowGroupFor(limit, warpSize), Is.EqualTo(expected));

    [Test]
    public void Create_MissingDevice_ThrowsNamingIt()
    {
        foreach (var kind in (IlgpuDeviceKind[])[IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL])
        {
            int count = IlgpuDevices.Available().Count(d => d.Kind == kind);
            var ex = Assert.Throws<ArgumentException>(() => IlgpuBackend.Create(kind, index: count));
            Assert.That(ex!.Message, Does.Contain(kind.ToString()));
        }
    }

    [Test]
    public void Kernels_LoadOncePerAcceleratorAndType()
    {
        var backend = Emulator;
        var x = backend.Upload<float>([1f, 2f, 3f]);
        var y = backend.Upload<float>(new float[3]);
        IlgpuGelu.Forward(backend, x.View, y.View);
        int loaded = backend.LoadedKernelSets;
        for (int i = 0; i < 3; i++) IlgpuGelu.Forward(backend, x.View, y.View);
        Assert.That(backend.LoadedKernelSets, Is.EqualTo(loaded), "repeated calls load nothing");
        var xd = backend.Upload<double>([1.0]);
        IlgpuGelu.Forward(backend, xd.View, xd.View);
        Assert.That(backend.LoadedKernelSets, Is.EqualTo(loaded + 1), "double is its own kernel set");
        backend.Synchronize();
        x.Dispose(); y.Dispose(); xd.Dispose();
    }

    [Test]
    public void Pool_ReusesBuffersByLength()
    {
        using var backend = IlgpuBackend.CreateCpuEmulation();
        var first = backend.Pool.Rent<float>(100);
        backend.Pool.Return(first);
        var again = backend.Pool.Rent<float>(100);
        Assert.That(again, Is.SameAs(first));
        var other = backend.Pool.Rent<float>(101);
        var asDouble = backend.Pool.Rent<double>(100);
        Assert.That(other, Is.Not.SameAs(first));
        Assert.That(backend.Pool.Allocations, Is.EqualTo(3));
        backend.Pool.Return(again);
        backend.Pool.Return(other);
        backend.Pool.Return(asDouble);

        // A "training step" that rents scratch (whole-view sums do) allocates nothing once warm.
        var x = backend.Upload<float>(new float[50]);
        var result = backend.Upload<float>(new float[1]);
        IlgpuReduce.SumAll(backend, x.View, result.View);
        int warm = backend.Pool.Allocations;
        for (int step = 0; step < 3; step++) IlgpuReduce.SumAll(backend, x.View, result.View);
        Assert.That(backend.Pool.Allocations, Is.EqualTo(warm));
        backend.Synchronize();
        x.Dispose(); result.Dispose();
    }

    [Test]
    public void GpuSizedGroups_OnTheEmulator_GemmStillMatches()
    {
        // The GPU's 16×16-thread GEMM tiles and 256-thread rows, emulated (slow: one small product).
        using var backend = IlgpuBackend.CreateCpuEmulation(threadsPerWarp: 32, warpsPerGroup: 8);
        const int m = 70, n = 66, k = 20;   // two 64-wide blocks each way, partial edges
        var random = new Random(1);
        var a = Enumerable.Range(0, k * m).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var expected = new float[m * n];
        Forge.Kernels.GemmReference.Run<float>(true, true, m, n, k, 1f, a, m, b, k, 0f, expected, n);
        using var aBuffer = backend.Upload<float>(a);
        using var bBuffer = backend.Upload<float>(b);
        using var cBuffer = backend.Upload<float>(new float[m * n]);
        IlgpuGemm.Run(backend, true, true, m, n, k, 1f, aBuffer.View, m, bBuffer.View, k, 0f, cBuffer.View, n);
        backend.Synchronize();
        var actual = cBuffer.GetAsArray1D();
        for (int i = 0; i < expected.Length; i++) Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5).Percent.Or.EqualTo(expected[i]).Within(1e-5f));
    }
}
