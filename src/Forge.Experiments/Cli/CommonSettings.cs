using System.Text.Json.Nodes;

namespace Forge.Experiments.Cli;

/// <summary>
/// The values of the common options (see <see cref="CommonOptions"/>) after parsing and validation.
/// </summary>
/// <param name="Out">The run folder from <c>--out</c>, or null for the default <c>runs/&lt;experiment&gt;-&lt;timestamp&gt;</c>.</param>
/// <param name="Seed">The random seed (<c>--seed</c>).</param>
/// <param name="Steps">Training steps (<c>--steps</c>).</param>
/// <param name="Device">The device name (<c>--device</c>), always one available on this machine.</param>
/// <param name="Threads">Kernel threads (<c>--threads</c>), caller included.</param>
/// <param name="ConfigPath">The JSON file from <c>--config</c>, or null.</param>
/// <param name="Config">That file's parsed content (a JSON object), or null.</param>
/// <param name="Resume">Whether to continue the run already in <see cref="Out"/> (<c>--resume</c>).</param>
public sealed record CommonSettings(
    string? Out,
    ulong Seed,
    int Steps,
    string Device,
    int Threads,
    string? ConfigPath,
    JsonObject? Config,
    bool Resume)
{
    /// <summary>True when <c>--steps</c> was given on the command line (experiments may derive a default otherwise).</summary>
    public bool StepsGiven { get; init; }

    /// <summary>True when <c>--seed</c> was given on the command line.</summary>
    public bool SeedGiven { get; init; }

    /// <summary>True when <c>--device</c> was given on the command line.</summary>
    public bool DeviceGiven { get; init; }

    /// <summary>
    /// Makes the settings take effect process-wide: sets <see cref="Kernels.Threading.ForkJoin.Threads"/>.
    /// Called once by the experiment command before the experiment runs.
    /// </summary>
    public void Apply() => Kernels.Threading.ForkJoin.Threads = Threads;

    /// <summary>
    /// The config.json keys that are not recipe settings: the experiment's name, the engine version, and
    /// the common options. A run's config.json given back as <c>--config</c> takes seed, steps, device
    /// and threads from these (unless the option is given too).
    /// </summary>
    public static IReadOnlyList<string> ConfigKeys { get; } = ["experiment", "engine_version", "seed", "steps", "device", "threads", "config_file"];

    /// <summary>The settings as config.json keys (snake_case), with the engine version.</summary>
    public IReadOnlyDictionary<string, object?> ToConfigEntries() => new Dictionary<string, object?>
    {
        ["engine_version"] = EngineInfo.Version,
        ["seed"] = Seed,
        ["steps"] = Steps,
        ["device"] = Device,
        ["threads"] = Threads,
        ["config_file"] = ConfigPath,
    };
}
