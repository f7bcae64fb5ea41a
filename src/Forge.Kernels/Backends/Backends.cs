using System.Numerics;

namespace Forge.Kernels;

/// <summary>Finds the kernel set of a device: the SIMD CPU kernels, or a device that brings its own.</summary>
public static class Backends
{
    /// <summary>The backend whose kernels run on <paramref name="device"/>.</summary>
    public static Backend<T> For<T>(Device device) where T : unmanaged, IFloatingPointIeee754<T> => device switch
    {
        CpuDevice => CpuBackend<T>.Instance,
        IBackendProvider provider => provider.Backend<T>(),
        _ => throw new NotSupportedException($"device '{device.Name}' has no kernels"),
    };
}

/// <summary>A device with its own kernels (the ILGPU accelerators).</summary>
public interface IBackendProvider
{
    /// <summary>This device's kernels for element type <typeparamref name="T"/>; NotSupportedException when it has none.</summary>
    Backend<T> Backend<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}
