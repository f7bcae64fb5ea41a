using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Runs;

/// <summary>
/// The folder one experiment run writes (shared/conventions.md, "Run directories"): config.json,
/// metrics.csv, summary.json, checkpoints/step-&lt;8 digits&gt;.safetensors, figures/*.png, report.md.
/// <para>
/// Opening never destroys anything: a folder that already holds a run (finished or not) is refused
/// unless <c>resume</c> is set, and resuming needs a folder that holds one. Files whose content is
/// replaced (config, summary, report, truncated metrics) are written atomically.
/// </para>
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string ConfigFileName = "config.json";
    public const string MetricsFileName = "metrics.csv";
    public const string SummaryFileName = "summary.json";
    public const string ReportFileName = "report.md";
    public const string CheckpointsFolderName = "checkpoints";
    public const string FiguresFolderName = "figures";
    /// <summary>The analysis' numbers, machine-readable; its presence marks a run as analysed (sweeps skip it).</summary>
    public const string AnalysisFileName = "analysis.json";
    /// <summary>The key of analysis.json holding the analysis' one-line summary.</summary>
    public const string HeadlineKey = "headline";

    /// <summary>The folder (absolute path).</summary>
    public string Root { get; }
    /// <summary>The experiment (command) name.</summary>
    public string Experiment { get; }
    /// <summary>True when this run continues one already in the folder.</summary>
    public bool IsResumed { get; }

    public string ConfigPath => Path.Combine(Root, ConfigFileName);
    public string MetricsPath => Path.Combine(Root, MetricsFileName);
    public string SummaryPath => Path.Combine(Root, SummaryFileName);
    public string ReportPath => Path.Combine(Root, ReportFileName);
    public string CheckpointsFolder => Path.Combine(Root, CheckpointsFolderName);
    public string FiguresFolder => Path.Combine(Root, FiguresFolderName);

    /// <summary>True when summary.json exists: the run got to its end.</summary>
    public bool IsFinished => File.Exists(SummaryPath);

    readonly RunFolderLock _lock;

    RunFolder(string root, string experiment, bool resumed, RunFolderLock folderLock)
    {
        Root = root;
        Experiment = experiment;
        IsResumed = resumed;
        _lock = folderLock;
        Directory.CreateDirectory(CheckpointsFolder);
        Directory.CreateDirectory(FiguresFolder);
        RemoveStaleTemporaryFiles();
        LastOpened = root;
    }

    /// <summary>
    /// The run folder this process opened last (absolute), or null: where the command line writes the
    /// details of an internal error, so they stay with the run that hit it.
    /// </summary>
    public static string? LastOpened { get; private set; }

    /// <summary>Releases the folder's lock. Everything written stays.</summary>
    public void Dispose() => _lock.Dispose();

    /// <summary>Opens the run folder the common options ask for.</summary>
    public static RunFolder Open(string experiment, CommonSettings settings) =>
        Open(experiment, settings.Out, settings.Resume);

    /// <summary>
    /// Creates (or, with <paramref name="resume"/>, reopens) a run folder and takes its lock for as long
    /// as the returned object lives (dispose it when the run ends): two processes never write one folder.
    /// The checks that a folder may be used happen after the lock is held, so two runs started together
    /// cannot both pass them.
    /// </summary>
    /// <param name="experiment">The experiment name, the default folder's prefix.</param>
    /// <param name="outDir">The folder, or null for <c>&lt;runsRoot&gt;/&lt;experiment&gt;-&lt;yyyyMMdd-HHmmss&gt;</c>.</param>
    /// <param name="resume">Continue the run in <paramref name="outDir"/> (required then).</param>
    /// <param name="now">The timestamp for the default name (default: local now).</param>
    /// <param name="runsRoot">Where default folders go (default: <c>runs</c> under the current folder).</param>
    /// <exception cref="UsageException">The folder holds a run and <paramref name="resume"/> is false,
    /// <paramref name="resume"/> is true and there is no run to continue, another process holds the
    /// folder, or the folder cannot be created.</exception>
    public static RunFolder Open(string experiment, string? outDir, bool resume, DateTime? now = null, string runsRoot = "runs")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experiment);
        if (outDir is null)
        {
            if (resume) throw new UsageException("--resume needs --out DIR (the run folder to continue)");
            string fresh = FreshDefaultFolder(experiment, now ?? DateTime.Now, runsRoot);
            return new RunFolder(fresh, experiment, resumed: false, Claim(fresh, runsRoot, created: true));
        }
        string root = FullPath(outDir);
        if (File.Exists(root)) throw new UsageException($"--out '{outDir}' is a file, not a folder");
        if (resume)
        {
            string configPath = Path.Combine(root, ConfigFileName);
            if (!Directory.Exists(root)) throw new UsageException($"nothing to resume in '{outDir}' (no such folder)");
            var held = Claim(root, outDir, created: false);   // first: a run starting there may not have written config.json yet
            string? problem = !File.Exists(configPath) ? $"nothing to resume in '{outDir}' (no {ConfigFileName})"
                : RecordedExperiment(configPath) is { } recorded && recorded != experiment ? $"cannot resume '{outDir}' as '{experiment}': it holds a '{recorded}' run"
                : null;
            if (problem is not null)
            {
                held.Dispose();
                throw new UsageException(problem);
            }
            return new RunFolder(root, experiment, resumed: true, held);
        }
        bool existed = Directory.Exists(root);
        var claim = Claim(root, outDir, created: !existed);
        var existing = ExistingRunFiles(root);
        if (existing.Count > 0)
        {
            claim.Dispose();
            string state = existing.Contains(SummaryFileName) ? "a finished run" : "an unfinished run";
            throw new UsageException(
                $"run folder '{outDir}' already holds {state} ({string.Join(", ", existing)}); " +
                "pass --resume to continue it or choose another --out");
        }
        return new RunFolder(root, experiment, resumed: false, claim);
    }

    /// <summary>The absolute path of a folder the user named; an empty or malformed name is a usage error.</summary>
    static string FullPath(string outDir)
    {
        if (string.IsNullOrWhiteSpace(outDir)) throw new UsageException("--out is empty: name the run folder");
        try { return Path.GetFullPath(outDir); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"--out '{outDir}' is not a usable path: {e.Message}", e);
        }
    }

    /// <summary>Creates the folder if needed and takes its lock; a folder that cannot be created or written is a usage error.</summary>
    static RunFolderLock Claim(string root, string shownAs, bool created)
    {
        try { Directory.CreateDirectory(root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new UsageException($"cannot create run folder '{shownAs}': {e.Message}", e);
        }
        try { return RunFolderLock.Acquire(root); }
        catch (UsageException) when (created)
        {
            // A folder this call created and could not use: leave nothing behind.
            try { Directory.Delete(root, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files of atomic writes that a killed process left (<c>*.tmp-*</c> next to
    /// config.json, summary.json, checkpoints …); this process holds the lock, so no writer owns them.
    /// </summary>
    void RemoveStaleTemporaryFiles()
    {
        foreach (var folder in new[] { Root, CheckpointsFolder, FiguresFolder })
            foreach (var file in Directory.EnumerateFiles(folder, "*" + Forge.Models.Checkpoints.AtomicFile.TemporarySuffix + "*"))
            {
                try { File.Delete(file); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
    }

    /// <summary>
    /// An existing run folder of any experiment, for tools that read runs (<c>analyze</c>,
    /// <c>llc-calibrate</c>): its experiment comes from its config.json. A missing folder, a missing or
    /// unreadable config.json or an unknown experiment is a <see cref="UsageException"/> naming it.
    /// </summary>
    public static (Framework.IExperiment Experiment, RunFolder Folder) OpenExisting(string dir)
    {
        if (!Directory.Exists(dir)) throw new UsageException($"run folder '{dir}' does not exist");
        string configPath = Path.Combine(Path.GetFullPath(dir), ConfigFileName);
        if (!File.Exists(configPath)) throw new UsageException($"'{dir}' has no {ConfigFileName}: not a run folder");
        string name = RecordedExperiment(configPath) ?? throw new UsageException($"'{configPath}' is not a run's config.json (no \"experiment\" name)");
        var experiment = Framework.ExperimentCatalog.Named(name, configPath);
        return (experiment, Open(name, dir, resume: true));
    }

    static string FreshDefaultFolder(string experiment, DateTime now, string runsRoot)
    {
        string stem = Path.GetFullPath(Path.Combine(runsRoot, $"{experiment}-{now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}"));
        // Two runs started in the same second get -2, -3, ... rather than sharing a folder.
        string candidate = stem;
        for (int n = 2; Directory.Exists(candidate) || File.Exists(candidate); n++) candidate = $"{stem}-{n}";
        return candidate;
    }

    /// <summary>The "experiment" recorded in a config.json, or null when it has none or is unreadable.</summary>
    static string? RecordedExperiment(string configPath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(configPath)) is JsonObject config
                   && config["experiment"] is JsonValue value && value.TryGetValue(out string? name) ? name : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>The run files already present in <paramref name="root"/> (other files do not count).</summary>
    static List<string> ExistingRunFiles(string root)
    {
        var found = new List<string>();
        if (!Directory.Exists(root)) return found;
        foreach (var name in new[] { ConfigFileName, MetricsFileName, SummaryFileName, ReportFileName })
            if (File.Exists(Path.Combine(root, name))) found.Add(name);
        string checkpoints = Path.Combine(root, CheckpointsFolderName);
        if (Directory.Exists(checkpoints) && Directory.EnumerateFileSystemEntries(checkpoints).Any())
            found.Add(CheckpointsFolderName + "/");
        return found;
    }

    /// <summary>The checkpoint file name for a step: <c>step-00001200.safetensors</c>.</summary>
    public static string CheckpointFileName(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}.safetensors";
    }

    /// <summary>The full path of the checkpoint for <paramref name="step"/>.</summary>
    public string CheckpointPath(long step) => Path.Combine(CheckpointsFolder, CheckpointFileName(step));

    /// <summary>The steps that have a checkpoint in this run, ascending.</summary>
    public IReadOnlyList<long> CheckpointSteps()
    {
        var steps = new List<long>();
        foreach (var file in Directory.EnumerateFiles(CheckpointsFolder, "step-*.safetensors"))
        {
            string digits = Path.GetFileNameWithoutExtension(file)["step-".Length..];
            if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long step)) steps.Add(step);
        }
        steps.Sort();
        return steps;
    }

    /// <summary>The step of the newest checkpoint, or null when there is none.</summary>
    public long? LatestCheckpointStep()
    {
        var steps = CheckpointSteps();
        return steps.Count == 0 ? null : steps[^1];
    }

    /// <summary>The path of figure <paramref name="name"/> (".png" added when it has no extension).</summary>
    public string FigurePath(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0)
            throw new ArgumentException($"RunFolder.FigurePath: '{name}' must be a plain file name.", nameof(name));
        return Path.Combine(FiguresFolder, Path.HasExtension(name) ? name : name + ".png");
    }

    /// <summary>A path inside the run as written in report.md: relative to the run, with '/' separators.</summary>
    public string RelativePath(string path) =>
        Path.GetRelativePath(Root, Path.GetFullPath(path, Root)).Replace('\\', '/');

    /// <summary>
    /// Writes config.json from the common settings plus the experiment's own (an object serialized with
    /// snake_case keys, or a dictionary). Also records the experiment name. Replaces the file atomically.
    /// </summary>
    public void WriteConfig(CommonSettings common, object? experimentSettings)
    {
        var config = new JsonObject { ["experiment"] = Experiment };
        foreach (var (key, value) in common.ToConfigEntries())
            config[key] = JsonSerializer.SerializeToNode(value, RunJson.WriteOptions);
        if (experimentSettings is not null)
        {
            var node = JsonSerializer.SerializeToNode(experimentSettings, experimentSettings.GetType(), RunJson.WriteOptions);
            if (node is not JsonObject settings)
                throw new ArgumentException("RunFolder.WriteConfig: experiment settings must serialize to a JSON object.", nameof(experimentSettings));
            foreach (var (key, value) in settings)
            {
                if (config.ContainsKey(key))
                    throw new ArgumentException($"RunFolder.WriteConfig: setting '{key}' is already a common setting.", nameof(experimentSettings));
                config[key] = value?.DeepClone();
            }
        }
        WriteJson(ConfigPath, config);
    }

    /// <summary>config.json as written, or null when there is none.</summary>
    /// <exception cref="UsageException">The file is not a JSON object (corrupt, truncated, foreign).</exception>
    public JsonObject? ReadConfig()
    {
        if (!File.Exists(ConfigPath)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(ConfigPath)) as JsonObject
                   ?? throw new UsageException($"'{ConfigPath}' does not hold a JSON object");
        }
        catch (JsonException e) { throw new UsageException($"'{ConfigPath}' is not valid JSON: {e.Message}", e); }
    }

    /// <summary>
    /// Opens metrics.csv for appending. A new run gets the header <c>step,lr,train_loss,&lt;extraColumns&gt;</c>.
    /// A resumed run must log the same columns; rows after <paramref name="resumedFromStep"/> (the step
    /// of the checkpoint it restarts from; -1 when it restarts from scratch) are dropped, since the
    /// resumed run logs them again.
    /// </summary>
    public MetricsLog OpenMetrics(IReadOnlyList<string> extraColumns, long resumedFromStep = -1)
    {
        var columns = MetricsLog.ColumnsFor(extraColumns);
        if (File.Exists(MetricsPath) && new FileInfo(MetricsPath).Length > 0)
        {
            if (!IsResumed)
                throw new InvalidOperationException($"RunFolder.OpenMetrics: '{MetricsPath}' exists but the run is not resumed.");
            string? header = MetricsTable.ReadHeader(MetricsPath);
            string expected = MetricsLog.HeaderLine(columns);
            if (header != expected)
                throw new UsageException($"cannot resume '{Root}': its {MetricsFileName} has columns '{header}' but this run logs '{expected}'");
            MetricsTable.KeepRowsThrough(MetricsPath, resumedFromStep);
        }
        return new MetricsLog(MetricsPath, columns);
    }

    /// <summary>Writes summary.json (atomically).</summary>
    public void WriteSummary(RunSummary summary) => WriteJson(SummaryPath, summary.ToJson());

    /// <summary>summary.json as written, or null when the run has not finished.</summary>
    public JsonObject? ReadSummary() =>
        File.Exists(SummaryPath) ? JsonNode.Parse(File.ReadAllText(SummaryPath)) as JsonObject : null;

    public string AnalysisPath => Path.Combine(Root, AnalysisFileName);

    /// <summary>Writes analysis.json (atomically): the headline first, then the analysis' numbers.</summary>
    public void WriteAnalysis(string headline, JsonObject numbers)
    {
        var json = new JsonObject { [HeadlineKey] = headline };
        foreach (var (key, value) in numbers) json[key] = value?.DeepClone();
        WriteJson(AnalysisPath, json);
    }

    /// <summary>Writes report.md (atomically).</summary>
    public void WriteReport(string markdown) => Forge.Models.Checkpoints.AtomicFile.WriteAllText(ReportPath, markdown);

    static void WriteJson(string path, JsonNode json) =>
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, json.ToJsonString(RunJson.WriteOptions) + "\n");
}
