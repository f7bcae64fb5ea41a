using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;

namespace Forge.Experiments.Cli;

/// <summary>
/// The devices <c>--device</c> can name and which of them this machine can run: <c>cpu</c> (the SIMD
/// kernels, always), <c>cuda</c> and <c>opencl</c> (ILGPU, when a driver and device exist) and
/// <c>ilgpu-cpu</c> (ILGPU's CPU emulator: the GPU kernels on the CPU, ~1000× slower — for tests, never
/// the default). The ILGPU devices are probed once, on first use.
/// </summary>
public static class DeviceCatalog
{
    /// <summary>Every name <c>--device</c> accepts (the conventions' order).</summary>
    public static IReadOnlyList<string> KnownNames => DeviceNames.All;

    static readonly Lazy<IReadOnlyList<string>> s_available = new(Probe);

    /// <summary>The devices that work on this machine, best first: cuda, opencl, cpu, then ilgpu-cpu.</summary>
    public static IReadOnlyList<string> AvailableNames => s_available.Value;

    /// <summary>
    /// The default device: CUDA, else the SIMD CPU path. OpenCL only when asked for (<c>--device opencl</c>):
    /// on NVIDIA's OpenCL driver some ILGPU kernels fail to build (docs/performance.md, "GPU"), so a machine
    /// with OpenCL but no CUDA is safer on the CPU by default. Never the emulator.
    /// </summary>
    public static string BestAvailable => AvailableNames.Contains("cuda") ? "cuda" : "cpu";

    static IReadOnlyList<string> Probe()
    {
        var names = new List<string>();
        try
        {
            if (IlgpuDevices.Has(IlgpuDeviceKind.Cuda)) names.Add("cuda");
            if (IlgpuDevices.Has(IlgpuDeviceKind.OpenCL)) names.Add("opencl");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken GPU driver must not take the CPU path down with it: list no GPU.
        }
        names.Add("cpu");
        names.Add("ilgpu-cpu");
        return names;
    }

    /// <summary>
    /// Checks a device name. Throws <see cref="UsageException"/> naming it when it is unknown or not
    /// available here, e.g. "device 'cuda' is not available on this machine (available: cpu, ilgpu-cpu)".
    /// </summary>
    public static string Validate(string name)
    {
        string? problem = Problem(name);
        return problem is null ? name : throw new UsageException(problem);
    }

    /// <summary>Why <paramref name="name"/> cannot be used here (one line), or null when it can.</summary>
    public static string? Problem(string name)
    {
        if (!KnownNames.Contains(name))
            return $"unknown device '{name}' (known: {string.Join(", ", KnownNames)})";
        if (!AvailableNames.Contains(name))
            return $"device '{name}' is not available on this machine (available: {string.Join(", ", AvailableNames)})";
        return null;
    }

    /// <summary>The engine device for an available name.</summary>
    public static Device Resolve(string name) => DeviceNames.Resolve(Validate(name));
}
