using Forge.Experiments.Cli;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// One group of the sorting sweep: the base recipe with one dimension varied over a grid (the
/// paper's weight-decay comparison, the δ̄ grids, heads, LayerNorm). A grid value equal to the base
/// recipe is the base setting itself, which every group shares (the plan runs it once).
/// </summary>
/// <param name="Name">The name <c>--groups</c> takes.</param>
/// <param name="Title">The heading of the group's table in the sweep report.</param>
/// <param name="Dimension">The one dimension the group varies.</param>
/// <param name="Settings">The group's grid, in order.</param>
/// <param name="Reference">
/// The setting the grid varies (null: the base recipe). <c>layernorm-no-decay</c> varies LayerNorm at
/// weight decay 0, because without LayerNorm the base recipe's coupled decay stops the model learning.
/// </param>
public sealed record SweepGroup(string Name, string Title, SweepDimension Dimension, IReadOnlyList<SortingSetting> Settings, SortingSetting? Reference = null)
    : Sweeps.ISweepGroup
{
    IReadOnlyList<Sweeps.ISweepSetting> Sweeps.ISweepGroup.Settings => Settings;

    static readonly SortingSetting B = SortingSetting.Base;

    /// <summary>Every group, in the order the plan and the report list them.</summary>
    public static IReadOnlyList<SweepGroup> All { get; } =
    [
        new("weight-decay", "Weight decay", SweepDimension.WeightDecay,
            [B with { WeightDecay = 0 }, B with { WeightDecay = 0.005 }, B with { WeightDecay = 0.05 }]),
        new("max-value", "δ̄ via max_value (n = 10)", SweepDimension.MaxValue,
            [B with { MaxValue = 30 }, B with { MaxValue = 50 }, B with { MaxValue = 100 }]),
        new("list-length", "δ̄ via list length (max_value = 50)", SweepDimension.ListLength,
            [B with { ListLength = 5 }, B with { ListLength = 10 }, B with { ListLength = 15 }]),
        new("gaps", "δ̄ via controlled gaps (n = 10, max_value = 50; uniform lists for reference)", SweepDimension.GapMean,
            [B with { GapMean = 1.5 }, B with { GapMean = 3 }, B with { GapMean = 5 }]),
        new("heads", "Heads", SweepDimension.Heads,
            [B with { Heads = 1 }, B with { Heads = 2 }, B with { Heads = 3 }, B with { Heads = 4 }]),
        new("layernorm", "LayerNorm", SweepDimension.LayerNorm,
            [B with { LayerNorm = true }, B with { LayerNorm = false }]),
        new("layernorm-no-decay", "LayerNorm at weight decay 0", SweepDimension.LayerNorm,
            [B with { WeightDecay = 0 }, B with { WeightDecay = 0, LayerNorm = false }], B with { WeightDecay = 0 }),
    ];

    /// <summary>The groups that vary the training lists' mean gap δ̄ (claim 6).</summary>
    public static IReadOnlyList<SweepGroup> GapGroups { get; } = [.. All.Where(g => g.Dimension is SweepDimension.MaxValue or SweepDimension.ListLength or SweepDimension.GapMean)];

    /// <summary>The group called <paramref name="name"/>; a usage error listing the names otherwise.</summary>
    public static SweepGroup Named(string name) =>
        All.FirstOrDefault(g => g.Name == name)
        ?? throw new UsageException($"unknown sweep group '{name}': expected one of {string.Join(", ", All.Select(g => g.Name))}");

    /// <summary>
    /// Whether <paramref name="setting"/> belongs in this group's report table: it differs from the
    /// group's reference (the base recipe unless stated) in this group's dimension only (the reference
    /// itself belongs to the group — in <c>gaps</c> the base is the uniform-list reference).
    /// </summary>
    public bool Covers(SortingSetting setting) => setting.Differences(Reference ?? B).All(d => d == Dimension);

    /// <summary>Whether a setting varies δ̄ only (base, max_value, list length or controlled gaps).</summary>
    public static bool IsGapSetting(SortingSetting setting) =>
        setting.Differences().All(d => d is SweepDimension.MaxValue or SweepDimension.ListLength or SweepDimension.GapMean);

    /// <summary>The name of the varied value, as a table column.</summary>
    public string ValueName => Dimension switch
    {
        SweepDimension.WeightDecay => "weight decay",
        SweepDimension.MaxValue => "max_value",
        SweepDimension.ListLength => "list length n",
        SweepDimension.GapMean => "lists",
        SweepDimension.Heads => "heads",
        _ => "LayerNorm",
    };

    /// <summary>The group's varied value for a setting, as the report shows it ("0.005", "30", "uniform", "on").</summary>
    public string Label(SortingSetting setting) => Dimension switch
    {
        SweepDimension.GapMean => setting.GapMean is double g ? $"gap mean {SortingSetting.Number(g)}" : "uniform",
        SweepDimension.LayerNorm => setting.LayerNorm ? "LN on" : "LN off",
        _ => SortingSetting.Number(setting.Value(Dimension)),
    };
}
