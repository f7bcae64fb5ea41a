using System.Text.Json.Nodes;

namespace Forge.Experiments.Sweeps;

/// <summary>One point of a sweep's grid: the options that turn the experiment's base recipe into it.</summary>
public interface ISweepSetting
{
    /// <summary>A short, folder-safe name (<c>base</c>, <c>wd-0</c>, <c>heads-3</c>): runs go to <c>&lt;root&gt;/&lt;name&gt;/seed-&lt;s&gt;</c>.</summary>
    string Name { get; }

    /// <summary>The experiment's options that give this setting (empty for the base recipe).</summary>
    IReadOnlyList<string> Arguments { get; }

    /// <summary>True for the base recipe, the reference of every group: it runs first.</summary>
    bool IsBase { get; }

    /// <summary>What sweep.json records of the setting besides name and arguments (e.g. a derived statistic); may be empty.</summary>
    JsonObject Describe();
}

/// <summary>A named group of settings (one dimension varied over a grid), as <c>--groups</c> selects them.</summary>
public interface ISweepGroup
{
    /// <summary>The name <c>--groups</c> takes.</summary>
    string Name { get; }

    /// <summary>The grid, in order.</summary>
    IReadOnlyList<ISweepSetting> Settings { get; }
}

/// <summary>
/// A paper's sweep: its groups of settings, and the report that aggregates finished runs. The running
/// of the grid — seeds × settings, resumable, <c>--parallel</c>, <c>--print</c>, <c>--slurm</c> — is
/// generic (<see cref="SweepCommand"/>, <see cref="SweepPlan"/>).
/// </summary>
public interface ISweepDesign
{
    /// <summary>What the groups vary, for <c>--help</c> (e.g. "weight decay, heads, LayerNorm").</summary>
    string GridDescription { get; }

    /// <summary>Every group, in the order the plan and the report list them.</summary>
    IReadOnlyList<ISweepGroup> Groups { get; }

    /// <summary>The options the settings set (so <c>--run-args</c>, which applies to every run, may not).</summary>
    IReadOnlyList<string> VariedOptions { get; }

    /// <summary>
    /// Aggregates every finished run of the experiment found under <paramref name="paths"/> (searched
    /// recursively) into a report with figures in <paramref name="outDir"/>; returns the report's path.
    /// </summary>
    string WriteReport(IReadOnlyList<string> paths, string outDir, TextWriter output);
}
