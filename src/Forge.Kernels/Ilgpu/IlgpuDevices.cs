using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// The accelerators ILGPU finds on this machine, probed once per process (creating an ILGPU context
/// loads the CUDA and OpenCL drivers when present; machines without them simply list none).
/// </summary>
public static class IlgpuDevices
{
    static readonly Lazy<IReadOnlyList<IlgpuDeviceInfo>> Probed = new(Probe);

    /// <summary>Every CUDA and OpenCL device, then the CPU emulator (always present).</summary>
    public static IReadOnlyList<IlgpuDeviceInfo> Available() => Probed.Value;

    /// <summary>Whether a device of <paramref name="kind"/> exists.</summary>
    public static bool Has(IlgpuDeviceKind kind)
    {
        foreach (var device in Available()) if (device.Kind == kind) return true;
        return false;
    }

    /// <summary>
    /// The device an engine should use by default: the first CUDA device, else the first OpenCL
    /// device, else null — meaning "use the SIMD CPU kernels". The CPU emulator is never preferred.
    /// </summary>
    public static IlgpuDeviceInfo? PreferredGpu()
    {
        foreach (var kind in (ReadOnlySpan<IlgpuDeviceKind>)[IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL])
            foreach (var device in Available())
                if (device.Kind == kind) return device;
        return null;
    }

    static IReadOnlyList<IlgpuDeviceInfo> Probe()
    {
        var found = new List<IlgpuDeviceInfo>();
        using var context = Context.Create(builder => builder.AllAccelerators());
        int cuda = 0, openCL = 0, cpu = 0;
        foreach (var device in context)
        {
            switch (device.AcceleratorType)
            {
                case AcceleratorType.Cuda:
                    found.Add(new IlgpuDeviceInfo(IlgpuDeviceKind.Cuda, cuda++, device.Name, device.MemorySize, true));
                    break;
                case AcceleratorType.OpenCL:
                    bool float64 = device is CLDevice cl && cl.Capabilities.Float64;
                    found.Add(new IlgpuDeviceInfo(IlgpuDeviceKind.OpenCL, openCL++, device.Name, device.MemorySize, float64));
                    break;
                case AcceleratorType.CPU when cpu++ == 0:
                    found.Add(new IlgpuDeviceInfo(IlgpuDeviceKind.CpuEmulation, 0, device.Name, device.MemorySize, true));
                    break;
            }
        }
        return found;
    }
}
