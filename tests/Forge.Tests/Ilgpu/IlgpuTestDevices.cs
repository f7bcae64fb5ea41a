using System.Numerics;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Forge.Tests.Ilgpu;

/// <summary>
/// One backend per device kind for the whole test run: creating an accelerator and compiling its
/// kernels is the slow part, so every fixture shares them. Disposed when the namespace's tests end.
/// </summary>
[SetUpFixture]
public sealed class IlgpuTestDevices
{
    static readonly Dictionary<IlgpuDeviceKind, IlgpuBackend> Backends = new();

    /// <summary>The shared backend of <paramref name="kind"/> (created on first use).</summary>
    public static IlgpuBackend Get(IlgpuDeviceKind kind)
    {
        lock (Backends)
        {
            if (!Backends.TryGetValue(kind, out var backend)) Backends[kind] = backend = IlgpuBackend.Create(kind);
            return backend;
        }
    }

    [OneTimeTearDown]
    public void DisposeBackends()
    {
        lock (Backends)
        {
            foreach (var backend in Backends.Values) backend.Dispose();
            Backends.Clear();
        }
    }
}

/// <summary>
/// Builds a generic parity fixture once per device kind × element type (CPU emulator, CUDA, OpenCL ×
/// float, double). Kinds this machine lacks still get fixtures, which report their tests as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class IlgpuParityFixturesAttribute : NUnitAttribute, IFixtureBuilder
{
    public IEnumerable<TestSuite> BuildFrom(ITypeInfo typeInfo)
    {
        foreach (var kind in (IlgpuDeviceKind[])[IlgpuDeviceKind.CpuEmulation, IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL])
            foreach (var type in (Type[])[typeof(float), typeof(double)])
                foreach (var suite in new TestFixtureAttribute(kind) { TypeArgs = [type] }.BuildFrom(typeInfo))
                    yield return suite;
    }
}

/// <summary>
/// Base of the ILGPU parity tests: the same test bodies run on the CPU emulator (always) and on
/// CUDA and OpenCL devices when present; without one, <see cref="Assert.Ignore(string)"/> reports
/// the fixture as skipped rather than passed. Buffers made by <see cref="Upload"/> are freed after
/// each test.
/// </summary>
public abstract class IlgpuParityTests<T>(IlgpuDeviceKind kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly List<MemoryBuffer> _buffers = new();

    protected IlgpuDeviceKind Kind { get; } = kind;

    protected IlgpuBackend Backend { get; private set; } = null!;

    /// <summary>Relative tolerance against the CPU reference: float ~1e-5, double ~1e-12.</summary>
    protected static double Tol => typeof(T) == typeof(float) ? 1e-5 : 1e-12;

    [OneTimeSetUp]
    public void OpenDevice()
    {
        if (!IlgpuDevices.Has(Kind)) Assert.Ignore($"No {Kind} device on this machine.");
        Backend = IlgpuTestDevices.Get(Kind);
        if (typeof(T) == typeof(double) && !Backend.SupportsFloat64) Assert.Ignore($"{Backend} has no float64 support.");
    }

    [TearDown]
    public void FreeBuffers()
    {
        Backend?.Synchronize();
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }

    /// <summary>A device copy of <paramref name="data"/>, freed after the test.</summary>
    protected ArrayView1D<TElement, Stride1D.Dense> Upload<TElement>(TElement[] data) where TElement : unmanaged
    {
        var buffer = Backend.Upload<TElement>(data);
        _buffers.Add(buffer);
        return buffer.View;
    }

    /// <summary>Waits for the queued kernels and copies <paramref name="view"/> back.</summary>
    protected TElement[] Download<TElement>(ArrayView1D<TElement, Stride1D.Dense> view) where TElement : unmanaged
    {
        Backend.Synchronize();
        var result = new TElement[view.Length];
        view.CopyToCPU(Backend.Stream, result);
        Backend.Synchronize();
        return result;
    }
}
