using Forge.Experiments.Cli;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Framework;

/// <summary>
/// A paper's experiment as the generic commands see it: <c>analyze</c> and <c>llc-calibrate</c> find it by
/// the <c>experiment</c> name in a run's config.json (<see cref="ExperimentCatalog"/>). Implement it by
/// deriving from <see cref="Experiment{TRecipe, TRun}"/>.
/// </summary>
public interface IExperiment
{
    /// <summary>The command name (<c>sorting</c>), also config.json's <c>experiment</c> and the default run-folder prefix.</summary>
    string Name { get; }

    /// <summary>One sentence for <c>--help</c>.</summary>
    string Description { get; }

    /// <summary>The settings of its recipe: the options of its command and the keys of its config.json.</summary>
    IReadOnlyList<RecipeSetting> Settings { get; }

    /// <summary>Its commands: the training command, and <c>&lt;name&gt;-sweep</c> / <c>&lt;name&gt;-sweep-report</c> when it has a sweep.</summary>
    IEnumerable<ICliCommand> Commands();

    /// <summary>
    /// The run in <paramref name="folder"/> rebuilt on the CPU from its config.json, with the weights of
    /// checkpoint <paramref name="step"/> (default: the latest). Problems are <see cref="UsageException"/>s naming the file.
    /// </summary>
    ExperimentRun Load(RunFolder folder, long? step = null);

    /// <summary>Analyses the model of <paramref name="run"/> (on the CPU), writes figures, report.md and analysis.json; returns a one-line summary.</summary>
    string Analyze(ExperimentRun run, RunFolder folder, TextWriter output);

    /// <summary>Whether <see cref="AnalyzeDevelopment"/> exists for this experiment.</summary>
    bool HasDevelopment { get; }

    /// <summary>The analysis over every checkpoint of a run (<c>analyze --development</c>); writes development.md.</summary>
    void AnalyzeDevelopment(ExperimentRun run, RunFolder folder, TextWriter output);
}
