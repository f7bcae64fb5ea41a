using System.Reflection;

namespace Forge.Experiments;

/// <summary>Which build of the engine is running (recorded in every config.json).</summary>
public static class EngineInfo
{
    /// <summary>
    /// The informational version of the engine (Forge.Tensor): the assembly version plus, when the SDK
    /// could read it at build time, <c>+&lt;git commit&gt;</c>.
    /// </summary>
    public static string Version { get; } =
        typeof(Device).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Device).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
