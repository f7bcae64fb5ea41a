using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Runs;

/// <summary>
/// Finds the run folders of one experiment under some paths (a sweep root, a cluster's output folder,
/// single runs), searching recursively: a folder with a config.json is a run and holds no runs. Sweep
/// reports aggregate what it finds.
/// </summary>
public static class RunSearch
{
    /// <summary>
    /// Every run folder of <paramref name="experiment"/> under <paramref name="paths"/>, each once, in path
    /// order: the analysed ones (with analysis.json) and the others (not analysed yet, or unreadable, with the reason).
    /// </summary>
    public static (IReadOnlyList<string> Analysed, IReadOnlyList<string> Unfinished) Find(IEnumerable<string> paths, string experiment)
    {
        var analysed = new SortedSet<string>(StringComparer.Ordinal);
        var unfinished = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (!Directory.Exists(path)) throw new UsageException($"--runs '{path}' is not a folder");
            foreach (var folder in FoldersWithConfig(Path.GetFullPath(path)))
            {
                string? recorded = Recorded(folder, out string? problem);
                if (problem is not null) unfinished.Add($"{folder} (unreadable config.json: {problem})");
                else if (recorded != experiment) continue;
                else if (File.Exists(Path.Combine(folder, RunFolder.AnalysisFileName))) analysed.Add(folder);
                else unfinished.Add(folder);
            }
        }
        return (analysed.ToList(), unfinished.ToList());
    }

    /// <summary>
    /// Every analysed run of <paramref name="experiment"/> under <paramref name="paths"/>, read by
    /// <paramref name="read"/>; the unfinished ones and those <paramref name="read"/> rejects (an
    /// <see cref="InvalidDataException"/>) are left out, each with its folder and reason.
    /// </summary>
    public static (List<T> Runs, List<string> LeftOut) ReadAll<T>(IEnumerable<string> paths, string experiment, Func<string, T> read)
    {
        var (analysed, unfinished) = Find(paths, experiment);
        var runs = new List<T>();
        var leftOut = new List<string>(unfinished);
        foreach (var folder in analysed)
        {
            try { runs.Add(read(folder)); }
            catch (InvalidDataException e) { leftOut.Add($"{folder} ({e.Message})"); }
        }
        return (runs, leftOut);
    }

    /// <summary>
    /// The searched folders as a report names them: relative to the report's folder when beneath it, else by
    /// their own name — never a path of the machine that wrote the report.
    /// </summary>
    public static string Describe(IEnumerable<string> paths, string reportFolder) =>
        string.Join(", ", paths.Select(p =>
        {
            string full = Path.GetFullPath(p), relative = Path.GetRelativePath(Path.GetFullPath(reportFolder), full);
            bool beneath = relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) && !Path.IsPathRooted(relative);
            return $"`{(beneath ? relative : Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)))}`";
        }));

    /// <summary>The folders under <paramref name="root"/> (itself included) that hold a config.json, not descending into them.</summary>
    public static IEnumerable<string> FoldersWithConfig(string root)
    {
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            string folder = pending.Pop();
            if (File.Exists(Path.Combine(folder, RunFolder.ConfigFileName))) { yield return folder; continue; }   // a run folder holds no runs
            foreach (var child in Directory.EnumerateDirectories(folder).OrderByDescending(d => d, StringComparer.Ordinal)) pending.Push(child);
        }
    }

    static string? Recorded(string folder, out string? problem)
    {
        problem = null;
        try { return JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.ConfigFileName)))?["experiment"]?.GetValue<string>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException)
        {
            problem = e.Message;
            return null;
        }
    }
}
