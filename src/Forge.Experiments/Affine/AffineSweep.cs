using System.Text.Json.Nodes;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Affine;

/// <summary>One setting of the affine sweep: the options that turn the default recipe into it.</summary>
public sealed record AffineSetting(string Name, IReadOnlyList<string> Arguments) : ISweepSetting
{
    public bool IsBase => Arguments.Count == 0;
    public JsonObject Describe() => new();
}

/// <summary>A named group of affine settings.</summary>
public sealed record AffineSweepGroup(string Name, IReadOnlyList<AffineSetting> Settings) : ISweepGroup
{
    IReadOnlyList<ISweepSetting> ISweepGroup.Settings => Settings;
}

/// <summary>
/// The affine sweep: seeds of the default recipe (<c>base</c>), and the sign of a held fixed
/// (<c>a-sign</c>: a ∈ [0, 1] and a ∈ [−1, 0]), which asks whether the negative-similarity heads exist
/// for the reason the paper suggests (a &lt; 0 flips the correction). Aggregated by <see cref="AffineSweepReport"/>.
/// </summary>
public sealed class AffineSweep : ISweepDesign
{
    static readonly AffineSetting Base = new("base", []);

    public string GridDescription => "seeds of the default recipe; a restricted to one sign";

    public IReadOnlyList<ISweepGroup> Groups { get; } =
    [
        new AffineSweepGroup("base", [Base]),
        new AffineSweepGroup("a-sign", [Base, new("a-positive", ["--a", "0,1"]), new("a-negative", ["--a", "-1,0"])]),
    ];

    public IReadOnlyList<string> VariedOptions { get; } = ["--a"];

    public string WriteReport(IReadOnlyList<string> paths, string outDir, TextWriter output) => AffineSweepReport.Write(paths, outDir, output);
}
