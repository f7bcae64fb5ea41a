using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The values of a sorting run that the sweep varies, and only those: weight decay, the list
/// distribution (n, max_value, controlled gap mean) — which sets the mean gap δ̄ — the number of heads
/// and LayerNorm. Two runs with equal settings belong to the same row of the sweep report, whatever
/// their seeds; everything else of the recipe is shared by the whole sweep (its <c>--run-args</c>).
/// </summary>
public sealed record SortingSetting(double WeightDecay, int MaxValue, int ListLength, double? GapMean, int Heads, bool LayerNorm) : Sweeps.ISweepSetting
{
    /// <summary>The base recipe's values (wd 0.005, max_value 50, n 10, uniform lists, 2 heads, LayerNorm).</summary>
    public static SortingSetting Base { get; } = Of(new SortingRecipe());

    /// <summary>The setting of a recipe.</summary>
    public static SortingSetting Of(SortingRecipe recipe) =>
        new(recipe.WeightDecay, recipe.MaxValue, recipe.ListLength, recipe.GapMean, recipe.Heads, recipe.LayerNorm);

    /// <summary>The setting recorded in a run's config.json (snake_case keys); a missing key means the base value.</summary>
    public static SortingSetting FromConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new SortingSetting(
            config["weight_decay"]?.GetValue<double>() ?? Base.WeightDecay,
            config["max_value"]?.GetValue<int>() ?? Base.MaxValue,
            config["list_length"]?.GetValue<int>() ?? Base.ListLength,
            config["gap_mean"]?.GetValue<double>(),
            config["heads"]?.GetValue<int>() ?? Base.Heads,
            config["layer_norm"]?.GetValue<bool>() ?? Base.LayerNorm);
    }

    /// <summary>The config.json keys of the setting (what the sweep report groups by).</summary>
    public static IReadOnlyList<string> ConfigKeys { get; } = ["weight_decay", "max_value", "list_length", "gap_mean", "heads", "layer_norm"];

    public bool IsBase => this == Base;

    /// <summary>sweep.json records each setting's mean gap δ̄.</summary>
    public JsonObject Describe() => new() { ["mean_gap"] = MeanGap };

    /// <summary>The <c>sorting</c> options that turn the base recipe into this setting (empty for the base).</summary>
    public IReadOnlyList<string> Arguments
    {
        get
        {
            var args = new List<string>();
            if (WeightDecay != Base.WeightDecay) args.AddRange(["--weight-decay", Number(WeightDecay)]);
            if (MaxValue != Base.MaxValue) args.AddRange(["--max-value", Number(MaxValue)]);
            if (ListLength != Base.ListLength) args.AddRange(["--list-length", Number(ListLength)]);
            if (GapMean is double g) args.AddRange(["--gap-mean", Number(g)]);
            if (Heads != Base.Heads) args.AddRange(["--heads", Number(Heads)]);
            if (LayerNorm != Base.LayerNorm) args.Add(LayerNorm ? throw new InvalidOperationException("the base recipe has LayerNorm on") : "--no-layernorm");
            return args;
        }
    }

    /// <summary>
    /// A short, folder-safe name: <c>base</c>, or the differences from the base joined with '_'
    /// (<c>wd-0</c>, <c>max-30</c>, <c>n-15</c>, <c>gap-1.5</c>, <c>heads-3</c>, <c>no-ln</c>, <c>wd-0_heads-3</c>).
    /// </summary>
    public string Name
    {
        get
        {
            var parts = new List<string>();
            if (WeightDecay != Base.WeightDecay) parts.Add("wd-" + Number(WeightDecay));
            if (MaxValue != Base.MaxValue) parts.Add("max-" + Number(MaxValue));
            if (ListLength != Base.ListLength) parts.Add("n-" + Number(ListLength));
            if (GapMean is double g) parts.Add("gap-" + Number(g));
            if (Heads != Base.Heads) parts.Add("heads-" + Number(Heads));
            if (LayerNorm != Base.LayerNorm) parts.Add(LayerNorm ? "ln" : "no-ln");
            return parts.Count == 0 ? "base" : string.Join("_", parts);
        }
    }

    /// <summary>The dimensions in which this setting differs from <paramref name="reference"/> (default: the base recipe).</summary>
    public IReadOnlyList<SweepDimension> Differences(SortingSetting? reference = null)
    {
        reference ??= Base;
        var found = new List<SweepDimension>();
        foreach (var dimension in Enum.GetValues<SweepDimension>())
            if (Value(dimension) != reference.Value(dimension)) found.Add(dimension);
        return found;
    }

    /// <summary>The value of one dimension as a number (LayerNorm: 1 on, 0 off; gap mean: 0 for uniform lists).</summary>
    public double Value(SweepDimension dimension) => dimension switch
    {
        SweepDimension.WeightDecay => WeightDecay,
        SweepDimension.MaxValue => MaxValue,
        SweepDimension.ListLength => ListLength,
        SweepDimension.GapMean => GapMean ?? 0,
        SweepDimension.Heads => Heads,
        SweepDimension.LayerNorm => LayerNorm ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    /// <summary>
    /// The mean gap δ̄ of the training lists: E[δ] = (M + 1)/(n + 1) for uniform lists; for controlled
    /// gaps the mean of the generator's lists (below the nominal mean, since lists that do not fit
    /// below max_value are redrawn), estimated once from 4,000 lists of a fixed seed.
    /// </summary>
    public double MeanGap => GapMean is null ? GapStatistics.ExpectedMeanGap(ListLength, MaxValue) : s_sampledGaps.GetOrAdd(this, SampledMeanGap);

    static readonly ConcurrentDictionary<SortingSetting, double> s_sampledGaps = new();

    static double SampledMeanGap(SortingSetting setting)
    {
        var task = new SortingTask(setting.ListLength, setting.MaxValue, setting.GapMean).Validate();
        var rng = new Rng(20250130);
        var lists = new List<int[]>(4000);
        for (int i = 0; i < 4000; i++)
        {
            var sequence = new int[task.Context];
            task.Sample(rng, sequence);
            lists.Add(sequence);
        }
        return GapStatistics.EmpiricalMeanGap(task, lists);
    }

    /// <summary>Checks that the setting makes a valid task (lists fit below max_value).</summary>
    public SortingSetting Validate()
    {
        _ = new SortingTask(ListLength, MaxValue, GapMean).Validate();
        return this;
    }

    /// <summary>Numbers as the command line and folder names write them: invariant, shortest round-trip form.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public override string ToString() => Name;
}

/// <summary>The settings a sweep varies; each group of the sweep varies one of them.</summary>
public enum SweepDimension { WeightDecay, MaxValue, ListLength, GapMean, Heads, LayerNorm }
