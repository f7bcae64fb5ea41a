using System.CommandLine;
using System.Text.Json.Nodes;

namespace Forge.Experiments.Cli;

/// <summary>
/// The options every experiment command shares (shared/conventions.md, "Command line"): <c>--out</c>,
/// <c>--seed</c>, <c>--steps</c>, <c>--device</c>, <c>--threads</c>, <c>--config</c>, plus <c>--resume</c>.
/// Create one per command (System.CommandLine options belong to one parent), add it with
/// <see cref="AddTo"/>, read it back with <see cref="Bind"/>.
/// </summary>
public sealed class CommonOptions
{
    public Option<string?> Out { get; }
    public Option<ulong> Seed { get; }
    public Option<int> Steps { get; }
    public Option<string> Device { get; }
    public Option<int> Threads { get; }
    public Option<string?> Config { get; }
    public Option<bool> Resume { get; }

    /// <param name="defaultSteps">This experiment's default training length.</param>
    /// <param name="defaultSeed">This experiment's default seed.</param>
    public CommonOptions(int defaultSteps, ulong defaultSeed = 0)
    {
        Out = new Option<string?>("--out")
        {
            Description = "Run folder (default: runs/<experiment>-<yyyyMMdd-HHmmss>).",
            HelpName = "DIR",
        };
        Seed = OptionFactory.ULong("--seed", "Random seed.", defaultSeed);
        Seed.HelpName = "N";
        Steps = OptionFactory.Int("--steps", "Training steps.", defaultSteps, min: 1);
        Steps.HelpName = "N";
        Device = OptionFactory.Device($"Device: {string.Join(", ", DeviceCatalog.KnownNames)}; the default is the best available.",
            () => DeviceCatalog.BestAvailable);
        Threads = OptionFactory.Int("--threads", "Kernel threads, caller included; the default is the core count.",
            Environment.ProcessorCount, min: 1, max: 1024);
        Threads.HelpName = "N";
        Config = new Option<string?>("--config")
        {
            Description = "JSON file with settings (e.g. the model config of a checkpoint from elsewhere).",
            HelpName = "FILE.json",
        };
        Resume = new Option<bool>("--resume")
        {
            Description = "Continue the run already in --out from its last checkpoint (never overwrites it otherwise).",
        };
    }

    /// <summary>Adds all common options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Out, Seed, Steps, Device, Threads, Config, Resume })
            command.Options.Add(option);
    }

    /// <summary>
    /// Reads the common options from a successful parse. Loads <c>--config</c> (a missing file or bad
    /// JSON is a <see cref="UsageException"/>) and checks that <c>--resume</c> comes with <c>--out</c>.
    /// </summary>
    public CommonSettings Bind(ParseResult parseResult)
    {
        string? outDir = parseResult.GetValue(Out);
        bool resume = parseResult.GetValue(Resume);
        if (resume && string.IsNullOrWhiteSpace(outDir))
            throw new UsageException("--resume needs --out DIR (the run folder to continue)");
        string? configPath = parseResult.GetValue(Config);
        var config = configPath is null ? null : ConfigFile.Load(configPath);
        var settings = new CommonSettings(
            Out: outDir,
            Seed: parseResult.GetValue(Seed),
            Steps: parseResult.GetValue(Steps),
            Device: parseResult.GetValue(Device)!,
            Threads: parseResult.GetValue(Threads),
            ConfigPath: configPath,
            Config: config,
            Resume: resume)
        {
            StepsGiven = Given(parseResult, Steps),
            SeedGiven = Given(parseResult, Seed),
            DeviceGiven = Given(parseResult, Device),
        };
        return config is null ? settings : WithConfigDefaults(settings, parseResult, config, configPath!);
    }

    static bool Given(ParseResult parseResult, Option option) => parseResult.GetResult(option) is { Implicit: false };

    /// <summary>
    /// A --config file that is a run's own config.json also holds the common settings: they apply
    /// where the option is not given, so the file alone reproduces the run.
    /// </summary>
    CommonSettings WithConfigDefaults(CommonSettings settings, ParseResult parseResult, JsonObject config, string path)
    {
        T Read<T>(string key)
        {
            try { return config[key]!.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new UsageException($"config file '{path}': invalid value for '{key}': {config[key]?.ToJsonString() ?? "null"}", e);
            }
        }
        if (config.ContainsKey("seed") && !Given(parseResult, Seed)) settings = settings with { Seed = Read<ulong>("seed") };
        if (config.ContainsKey("steps") && !Given(parseResult, Steps))
        {
            int steps = Read<int>("steps");
            if (steps < 1) throw new UsageException($"config file '{path}': invalid value for 'steps': {steps} (expected ≥ 1)");
            settings = settings with { Steps = steps, StepsGiven = true };
        }
        if (config.ContainsKey("threads") && !Given(parseResult, Threads))
            settings = settings with { Threads = Math.Clamp(Read<int>("threads"), 1, 1024) };
        // A recorded device that this machine lacks (a GPU run analysed on a laptop) falls back to the default.
        if (config.ContainsKey("device") && !Given(parseResult, Device) && DeviceCatalog.Problem(Read<string>("device")) is null)
            settings = settings with { Device = Read<string>("device") };
        return settings;
    }
}
