namespace Forge.Experiments.Cli;

/// <summary>
/// The devices <c>--device</c> can name and which of them this machine can run. For now only the CPU
/// exists; the ILGPU back ends (<c>cuda</c>, <c>opencl</c>, <c>ilgpu-cpu</c>) are listed so their names
/// are reserved and a request for one fails with a clear "not available" instead of "unknown".
/// </summary>
public static class DeviceCatalog
{
    /// <summary>Every name <c>--device</c> accepts (the conventions' order).</summary>
    public static IReadOnlyList<string> KnownNames { get; } = ["cpu", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>
    /// The devices that work on this machine, best first (cuda, opencl, cpu once the GPU back ends
    /// exist; ilgpu-cpu, an emulator for tests, last).
    /// </summary>
    public static IReadOnlyList<string> AvailableNames { get; } = ["cpu"];

    /// <summary>The default device: the best available one (<c>ilgpu-cpu</c>, an emulator, never is).</summary>
    public static string BestAvailable => AvailableNames[0];

    /// <summary>
    /// Checks a device name. Throws <see cref="UsageException"/> naming it when it is unknown or not
    /// available here, e.g. "device 'cuda' is not available on this machine (available: cpu)".
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
    public static Device Resolve(string name) => Validate(name) switch
    {
        "cpu" => CpuDevice.Instance,
        _ => throw new InvalidOperationException($"device '{name}' is listed as available but has no implementation"),
    };
}
