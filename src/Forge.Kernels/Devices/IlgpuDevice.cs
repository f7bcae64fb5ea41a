using System.Collections.Concurrent;
using System.Numerics;
using Forge.Kernels.Ilgpu;

namespace Forge.Kernels.Devices;

/// <summary>
/// An ILGPU accelerator as a Forge <see cref="Device"/>: tensors allocated here live in device
/// buffers (<see cref="IlgpuStorage{T}"/>, from the accelerator's pool) and every op on them runs the
/// ILGPU kernels (<see cref="IlgpuKernels{T}"/>), queued in order on one stream, so a training step
/// stays on the device; only loss read-backs, metrics and checkpoints copy to the host.
/// <para>
/// Names on the command line: <c>cuda</c>, <c>opencl</c>, and <c>ilgpu-cpu</c> — ILGPU's CPU emulator,
/// which runs the same GPU kernels about a thousand times slower than the SIMD CPU path and exists to
/// test them without a GPU.
/// </para>
/// </summary>
public sealed class IlgpuDevice : Device, IBackendProvider, IDisposable
{
    static readonly ConcurrentDictionary<IlgpuDeviceKind, IlgpuDevice> s_shared = new();
    readonly ConcurrentDictionary<Type, object> _kernels = new();

    IlgpuDevice(IlgpuBackend accelerator) => Accelerator = accelerator;

    /// <summary>The ILGPU context, accelerator, stream, kernel cache and buffer pool behind this device.</summary>
    public IlgpuBackend Accelerator { get; }

    public override string Name => NameOf(Accelerator.Kind);

    /// <summary>The command-line name of a kind of ILGPU device.</summary>
    public static string NameOf(IlgpuDeviceKind kind) => kind switch
    {
        IlgpuDeviceKind.Cuda => "cuda",
        IlgpuDeviceKind.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    /// <summary>
    /// The process-wide device of <paramref name="kind"/> (its first device), created on first use:
    /// one context and accelerator per kind, shared by every model (they must share it to exchange tensors).
    /// </summary>
    /// <exception cref="ArgumentException">No such device on this machine.</exception>
    public static IlgpuDevice Get(IlgpuDeviceKind kind) => s_shared.GetOrAdd(kind, k => new IlgpuDevice(IlgpuBackend.Create(k)));

    public override Storage<T> Allocate<T>(int length) => new IlgpuStorage<T>(this, length);

    /// <summary>The ILGPU kernels for <typeparamref name="T"/>; float64 needs a device that supports it.</summary>
    public Backend<T> Backend<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        (Backend<T>)_kernels.GetOrAdd(typeof(T), static (_, device) => new IlgpuKernels<T>(device), this);

    /// <summary>Waits until every queued kernel has finished (timing; host copies wait by themselves).</summary>
    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        s_shared.TryRemove(new KeyValuePair<IlgpuDeviceKind, IlgpuDevice>(Accelerator.Kind, this));
        Accelerator.Dispose();
    }
}
