using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The headline numbers of one finished sorting run (a folder with config.json and analysis.json),
/// as the sweep report aggregates them.
/// </summary>
/// <param name="Folder">The run folder (absolute).</param>
/// <param name="SuppressorDeltaConfidence">Copy-suppression runs: the change of mean confidence when the suppressor is mean-ablated; null otherwise or when not recorded.</param>
/// <param name="OtherSettings">What the run's recipe changed from the paper's, besides its setting ("epochs=5, train_size=20000"; empty for the full recipe) — runs with different text followed different recipes.</param>
/// <param name="HasDevelopment">The run has the development analysis (development.md, from <c>analyze --development</c>).</param>
public sealed record FinishedRun(string Folder, SortingSetting Setting, ulong Seed, SortingMode Mode, double ValAcc, double ValLoss,
    double LlcMean, double LlcStd, bool LlcDiverged, double? SuppressorDeltaConfidence, string OtherSettings, bool HasDevelopment)
{
    /// <summary>True when the mode is one of the paper's two organised modes.</summary>
    public bool IsOrganised => Mode is SortingMode.VocabularySplitting or SortingMode.CopySuppression;

    /// <summary>The LLC when it can be used (the sampler did not diverge and the value is finite), else null.</summary>
    public double? Llc => !LlcDiverged && double.IsFinite(LlcMean) ? LlcMean : null;

    static readonly string[] RunSpecificKeys = ["experiment", "engine_version", "seed", "device", "threads", "config_file"];

    /// <summary>The run in <paramref name="folder"/>, or null when it is not a finished sorting run.</summary>
    /// <exception cref="InvalidDataException">config.json or analysis.json exists but cannot be read.</exception>
    public static FinishedRun? Read(string folder)
    {
        string configPath = Path.Combine(folder, RunFolder.ConfigFileName), analysisPath = Path.Combine(folder, RunFolder.AnalysisFileName);
        if (!File.Exists(configPath) || !File.Exists(analysisPath)) return null;
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException("config.json is not a JSON object");
            if (config["experiment"]?.GetValue<string>() != "sorting") return null;
            var analysis = JsonNode.Parse(File.ReadAllText(analysisPath)) as JsonObject ?? throw new InvalidDataException("analysis.json is not a JSON object");
            var mode = Enum.Parse<SortingMode>(analysis["mode"]?.GetValue<string>() ?? throw new InvalidDataException("analysis.json has no mode"), ignoreCase: true);
            return new FinishedRun(Path.GetFullPath(folder), SortingSetting.FromConfig(config), config["seed"]?.GetValue<ulong>() ?? 0, mode,
                Number(analysis["val_acc"]), Number(analysis["val_loss"]), Number(analysis["llc_mean"]), Number(analysis["llc_std"]),
                analysis["llc_diverged"]?.GetValue<bool>() ?? false,
                mode == SortingMode.CopySuppression ? SuppressorDelta(folder, analysis) : null,
                OtherSettingsOf(config), File.Exists(Path.Combine(folder, "development.md")));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"cannot read the sorting run in '{folder}': {e.Message}", e);
        }
    }

    /// <summary>A JSON number, or the strings "NaN"/"Infinity" non-finite values are written as; missing = NaN.</summary>
    static double Number(JsonNode? node) => node switch
    {
        null => double.NaN,
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v when v.TryGetValue(out string? s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => double.NaN,
    };

    /// <summary>The paper's recipe as config.json writes it (with the default steps), to name what a run changed.</summary>
    static readonly JsonObject s_defaultRecipe = DefaultRecipe();

    static JsonObject DefaultRecipe()
    {
        var recipe = new SortingRecipe();
        var json = JsonSerializer.SerializeToNode(recipe, RunJson.WriteOptions)!.AsObject();
        json["steps"] = recipe.Epochs * recipe.StepsPerEpoch;
        return json;
    }

    /// <summary>"epochs=2, train_size=640": the recipe keys (other than the setting's) that differ from the paper's recipe.</summary>
    static string OtherSettingsOf(JsonObject config) =>
        string.Join(", ", config
            .Where(p => !RunSpecificKeys.Contains(p.Key) && !SortingSetting.ConfigKeys.Contains(p.Key))
            .Where(p => !s_defaultRecipe.TryGetPropertyValue(p.Key, out var standard) || !SameValue(standard, p.Value))
            .OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value?.ToJsonString() ?? "null"}"));

    static bool SameValue(JsonNode? a, JsonNode? b) =>
        a is JsonValue va && b is JsonValue vb && va.TryGetValue(out double x) && vb.TryGetValue(out double y)
            ? x == y
            : (a?.ToJsonString() ?? "null") == (b?.ToJsonString() ?? "null");

    /// <summary>
    /// Δ mean confidence when the suppressor is mean-ablated: from analysis.json when it records it
    /// (<c>suppressor_delta_confidence</c>, or an <c>ablations</c> array of {head, kind, delta_confidence}),
    /// else from the ablation table of report.md.
    /// </summary>
    static double? SuppressorDelta(string folder, JsonObject analysis)
    {
        if (analysis["suppressor_delta_confidence"] is JsonValue direct) return Number(direct);
        if (analysis["suppression_pair"]?.GetValue<string>() is not { } pair || pair.Split("->") is not [_, var suppressorText]
            || !int.TryParse(suppressorText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int suppressor)) return null;
        if (analysis["ablations"] is JsonArray ablations)
            foreach (var a in ablations)
                if (a?["head"]?.GetValue<int>() == suppressor && a["kind"]?.GetValue<string>() == "mean") return Number(a["delta_confidence"]);
        return FromReportTable(Path.Combine(folder, RunFolder.ReportFileName), suppressor);
    }

    /// <summary>The "Δ mean confidence" cell of the report's ablation row (head <paramref name="head"/>, mean).</summary>
    public static double? FromReportTable(string reportPath, int head)
    {
        if (!File.Exists(reportPath)) return null;
        int column = -1;
        foreach (var line in File.ReadLines(reportPath))
        {
            if (!line.StartsWith('|')) { column = -1; continue; }
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length > 1 && cells[0] == "head" && cells[1] == "ablation") { column = Array.IndexOf(cells, "Δ mean confidence"); continue; }
            if (column < 0 || cells.Length <= column) continue;
            if (cells[0] == head.ToString(CultureInfo.InvariantCulture) && cells[1] == "mean"
                && double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        }
        return null;
    }

    /// <summary>
    /// Every finished sorting run under <paramref name="paths"/> (each a run folder or a folder holding
    /// some, searched recursively), each once, ordered by setting and seed; and the sorting run folders
    /// found unfinished (config.json without analysis.json) or unreadable (with the reason).
    /// </summary>
    public static (IReadOnlyList<FinishedRun> Finished, IReadOnlyList<string> Unfinished) FindAll(IEnumerable<string> paths)
    {
        var finished = new Dictionary<string, FinishedRun>();
        var unfinished = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (!Directory.Exists(path)) throw new Cli.UsageException($"--runs '{path}' is not a folder");
            foreach (var folder in RunSearch.FoldersWithConfig(Path.GetFullPath(path)))
            {
                FinishedRun? run;
                try { run = Read(folder); }
                catch (InvalidDataException e)
                {
                    unfinished.Add($"{folder} (unreadable: {e.InnerException?.Message ?? e.Message})");
                    continue;
                }
                if (run is not null) finished[run.Folder] = run;
                else if (IsSortingConfig(Path.Combine(folder, RunFolder.ConfigFileName))) unfinished.Add(folder);
            }
        }
        var ordered = finished.Values.OrderBy(r => r.Setting.Name, StringComparer.Ordinal).ThenBy(r => r.Seed).ThenBy(r => r.Folder, StringComparer.Ordinal).ToList();
        return (ordered, unfinished.ToList());
    }

    static bool IsSortingConfig(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path))?["experiment"]?.GetValue<string>() == "sorting"; }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return false; }
    }
}
