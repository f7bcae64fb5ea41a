using Forge.Kernels.Ilgpu;

namespace Forge.Kernels.Devices;

/// <summary>The device names of the command line (the conventions' <c>--device</c> values) and the devices they stand for.</summary>
public static class DeviceNames
{
    /// <summary>Every name, in the conventions' order.</summary>
    public static IReadOnlyList<string> All { get; } = ["cpu", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>
    /// The device called <paramref name="name"/>: the SIMD CPU path, or the shared ILGPU device of that kind
    /// (an <see cref="ArgumentException"/> names the problem when the name is unknown or no such device exists).
    /// </summary>
    public static Device Resolve(string name) => name switch
    {
        "cpu" => CpuDevice.Instance,
        "cuda" => IlgpuDevice.Get(IlgpuDeviceKind.Cuda),
        "opencl" => IlgpuDevice.Get(IlgpuDeviceKind.OpenCL),
        "ilgpu-cpu" => IlgpuDevice.Get(IlgpuDeviceKind.CpuEmulation),
        _ => throw new ArgumentException($"unknown device \"{name}\" (expected {string.Join(", ", All)})", nameof(name)),
    };
}
