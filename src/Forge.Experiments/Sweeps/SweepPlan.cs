using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Sweeps;

/// <summary>
/// The runs of an experiment's sweep: the chosen groups' settings (a setting shared by several groups —
/// above all the base recipe — is run once), each with <see cref="Seeds"/> seeds from
/// <see cref="FirstSeed"/>, in <c>&lt;root&gt;/&lt;setting&gt;/seed-&lt;s&gt;</c>. <see cref="RunArgs"/> are
/// options of the experiment passed to every run (e.g. <c>--epochs 5</c> for a quick sorting sweep).
/// </summary>
public sealed class SweepPlan
{
    /// <summary>The plan file in the sweep root.</summary>
    public const string FileName = "sweep.json";

    /// <summary>Options the sweep sets itself for every experiment, so <c>--run-args</c> may not.</summary>
    static readonly string[] Reserved = ["--out", "--seed", "--resume", "--threads", "--no-analysis", "--config"];

    SweepPlan(Framework.IExperiment experiment, string root, IReadOnlyList<ISweepGroup> groups, int seeds, ulong firstSeed, IReadOnlyList<string> runArgs)
    {
        (Experiment, Root, Groups, Seeds, FirstSeed, RunArgs) = (experiment.Name, root, groups, seeds, firstSeed, runArgs);
        // The base recipe first: it is the reference of every group and the evidence of claim 1.
        Settings = groups.SelectMany(g => g.Settings).Distinct().OrderBy(s => s.IsBase ? 0 : 1).ToList();
        Runs = Settings.SelectMany(s => Enumerable.Range(0, seeds).Select(i => RunOf(s, firstSeed + (ulong)i))).ToList();
    }

    /// <summary>The experiment every run runs (its command name).</summary>
    public string Experiment { get; }
    /// <summary>The sweep folder (absolute).</summary>
    public string Root { get; }
    public IReadOnlyList<ISweepGroup> Groups { get; }
    public int Seeds { get; }
    public ulong FirstSeed { get; }
    public IReadOnlyList<string> RunArgs { get; }
    /// <summary>The distinct settings of the chosen groups: the base recipe (when chosen), then the others in group order.</summary>
    public IReadOnlyList<ISweepSetting> Settings { get; }
    /// <summary>Every run: settings × seeds.</summary>
    public IReadOnlyList<SweepRun> Runs { get; }

    /// <summary>Builds a plan; bad group names, seed counts or run arguments are usage errors.</summary>
    /// <param name="groups">Group names; null or empty = all groups.</param>
    public static SweepPlan Create(Framework.IExperiment experiment, ISweepDesign design, string root, IReadOnlyList<string>? groups,
        int seeds, ulong firstSeed, IReadOnlyList<string> runArgs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (seeds < 1) throw new UsageException($"invalid value '{seeds}' for --seeds: expected an integer ≥ 1");
        if (firstSeed > ulong.MaxValue - (ulong)seeds) throw new UsageException($"--first-seed {firstSeed} + --seeds {seeds} overflows");
        var chosen = groups is null || groups.Count == 0 ? design.Groups : groups.Distinct().Select(name => Named(design, name)).ToList();
        CheckRunArgs(experiment, design, runArgs);
        return new SweepPlan(experiment, Path.GetFullPath(root), chosen, seeds, firstSeed, runArgs);
    }

    static ISweepGroup Named(ISweepDesign design, string name) =>
        design.Groups.FirstOrDefault(g => g.Name == name)
        ?? throw new UsageException($"unknown sweep group '{name}': expected one of {string.Join(", ", design.Groups.Select(g => g.Name))}");

    SweepRun RunOf(ISweepSetting setting, ulong seed) =>
        new(Experiment, setting, seed, Path.Combine(Root, setting.Name, "seed-" + seed.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The runs still to do, each with its state and arguments (finished runs are left out).</summary>
    public IReadOnlyList<SweepJob> PendingJobs(int threads)
    {
        var jobs = new List<SweepJob>();
        foreach (var run in Runs)
        {
            var state = run.State();
            if (run.Arguments(state, RunArgs, threads) is { } args) jobs.Add(new SweepJob(run, state, args));
        }
        return jobs;
    }

    /// <summary>
    /// Rejects run arguments that set what the sweep sets itself (folder, seed, threads, the varied
    /// settings) or that the experiment would not accept, with one line naming the culprit.
    /// </summary>
    public static void CheckRunArgs(Framework.IExperiment experiment, ISweepDesign design, IReadOnlyList<string> runArgs)
    {
        foreach (var arg in runArgs)
        {
            string name = arg.Split('=')[0];
            if (Reserved.Contains(name) || design.VariedOptions.Contains(name))
                throw new UsageException($"--run-args may not contain '{name}': the sweep sets it for each run");
        }
        var parse = new CommandRegistry().Register(experiment).BuildRoot().Parse([experiment.Name, .. runArgs]);
        if (parse.UnmatchedTokens.Count > 0)
            throw new UsageException($"--run-args: '{experiment.Name}' does not accept '{parse.UnmatchedTokens[0]}'");
        if (parse.Errors.Count > 0) throw new UsageException($"--run-args: {parse.Errors[0].Message}");
    }

    /// <summary>
    /// Splits a <c>--run-args</c> string into arguments: on white space, keeping 'single' or "double"
    /// quoted parts together (no escapes inside quotes).
    /// </summary>
    public static IReadOnlyList<string> SplitArguments(string? text)
    {
        var args = new List<string>();
        if (string.IsNullOrWhiteSpace(text)) return args;
        var current = new System.Text.StringBuilder();
        bool inToken = false;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inToken = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inToken) args.Add(current.ToString());
                current.Clear();
                inToken = false;
            }
            else { current.Append(c); inToken = true; }
        }
        if (quote != '\0') throw new UsageException($"--run-args: unclosed {quote} in '{text}'");
        if (inToken) args.Add(current.ToString());
        return args;
    }

    /// <summary>sweep.json: the plan (groups, seeds, run arguments, every run's folder and setting).</summary>
    public JsonObject ToJson(int parallel, int threads) => new()
    {
        ["experiment"] = Experiment + "-sweep",
        ["engine_version"] = EngineInfo.Version,
        ["groups"] = new JsonArray(Groups.Select(g => (JsonNode?)g.Name).ToArray()),
        ["seeds"] = Seeds,
        ["first_seed"] = FirstSeed,
        ["run_args"] = new JsonArray(RunArgs.Select(a => (JsonNode?)a).ToArray()),
        ["parallel"] = parallel,
        ["threads_per_run"] = threads,
        ["settings"] = new JsonArray(Settings.Select(s => (JsonNode?)Describe(s)).ToArray()),
        ["runs"] = new JsonArray(Runs.Select(r => (JsonNode?)new JsonObject
        {
            ["setting"] = r.Setting.Name,
            ["seed"] = r.Seed,
            ["folder"] = Path.GetRelativePath(Root, r.Folder).Replace('\\', '/'),
        }).ToArray()),
    };

    static JsonObject Describe(ISweepSetting setting)
    {
        var json = new JsonObject
        {
            ["name"] = setting.Name,
            ["arguments"] = new JsonArray(setting.Arguments.Select(a => (JsonNode?)a).ToArray()),
        };
        foreach (var (key, value) in setting.Describe()) json[key] = value?.DeepClone();
        return json;
    }

    /// <summary>
    /// Writes sweep.json. A sweep already in the root must have been planned with the same run
    /// arguments: its finished runs would otherwise be skipped although they followed another recipe.
    /// More seeds or other groups are fine (the runs already there are reused).
    /// </summary>
    public void WritePlanFile(int parallel, int threads)
    {
        string path = Path.Combine(Root, FileName);
        if (File.Exists(path) && StoredRunArgs(path) is { } stored && !stored.SequenceEqual(RunArgs))
            throw new UsageException(
                $"'{Root}' holds a sweep planned with --run-args \"{string.Join(' ', stored)}\", not \"{string.Join(' ', RunArgs)}\"; " +
                "use the same run arguments to continue it, or another --out");
        Directory.CreateDirectory(Root);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, ToJson(parallel, threads).ToJsonString(RunJson.WriteOptions) + "\n");
    }

    static List<string>? StoredRunArgs(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["run_args"]?.AsArray().Select(a => a!.GetValue<string>()).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new UsageException($"'{path}' is not a sweep plan: {e.Message}", e);
        }
    }
}
