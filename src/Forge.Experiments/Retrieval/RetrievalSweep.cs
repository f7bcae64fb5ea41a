using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Retrieval;

/// <summary>One setting of the retrieval sweep: the options that turn the default recipe into it.</summary>
public sealed record RetrievalSetting(string Name, IReadOnlyList<string> Arguments) : ISweepSetting
{
    public bool IsBase => Arguments.Count == 0;
    public JsonObject Describe() => new();

    /// <summary>The cell (layers, depth) with one curriculum: <c>L3-D4-mixed</c>.</summary>
    public static RetrievalSetting Cell(int layers, int depth, string curriculum) =>
        new($"L{layers}-D{depth}-{curriculum}",
            ["--layers", layers.ToString(CultureInfo.InvariantCulture), "--depth", depth.ToString(CultureInfo.InvariantCulture), "--curriculum", curriculum]);
}

/// <summary>A named group of retrieval settings.</summary>
public sealed record RetrievalSweepGroup(string Name, IReadOnlyList<RetrievalSetting> Settings) : ISweepGroup
{
    IReadOnlyList<ISweepSetting> ISweepGroup.Settings => Settings;
}

/// <summary>
/// The retrieval sweep [ours]: <c>base</c> — seeds of the default recipe, the emergence runs (analyse each
/// with <c>analyze --development</c>); <c>bound-none</c>, <c>bound-mixed</c>, <c>bound-intermediate</c> — layers
/// × depth with one kind of training data each, the depths chosen on both sides of the bound
/// ⌈log₃(2D)⌉ = 1, 2, 3, 4 (D = 1 | 2, 4 | 5, 13 | 14). Aggregated by <see cref="RetrievalSweepReport"/>.
/// </summary>
public sealed class RetrievalSweep : ISweepDesign
{
    /// <summary>The layer counts of the bound groups.</summary>
    public static readonly int[] Layers = [1, 2, 3, 4];

    /// <summary>The depths of the bound groups: the largest depth each layer count can reach by the bound, and one more.</summary>
    public static readonly int[] Depths = [1, 2, 4, 5, 13, 14];

    public string GridDescription => "seeds of the default recipe (emergence); layers 1–4 × depths 1, 2, 4, 5, 13, 14 per kind of training data";

    public IReadOnlyList<ISweepGroup> Groups { get; } =
    [
        new RetrievalSweepGroup("base", [new("base", [])]),
        .. new[] { "none", "mixed", "intermediate" }.Select(c => new RetrievalSweepGroup("bound-" + c,
            Layers.SelectMany(l => Depths.Select(d => RetrievalSetting.Cell(l, d, c))).ToList())),
    ];

    public IReadOnlyList<string> VariedOptions { get; } = ["--layers", "--depth", "--curriculum"];

    public string WriteReport(IReadOnlyList<string> paths, string outDir, TextWriter output) => RetrievalSweepReport.Write(paths, outDir, output);
}
