using System.Text.Json.Nodes;
using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Experiments.Sweeps;
using Forge.Models.Checkpoints;

namespace Forge.Experiments.Framework;

/// <summary>
/// The base of every paper's experiment. A paper supplies its recipe record (<typeparamref name="TRecipe"/>:
/// the settings, hence the options), its task (<see cref="CreateRun"/>: data, model and loss as a
/// <typeparamref name="TRun"/>), its analysis and report (<see cref="Analyze(TRun, RunFolder, TextWriter)"/>)
/// and optionally a sweep design. Everything else — options, --config, the run folder, resume, the
/// training loop with its NaN stop, progress, checkpoints and metrics, <c>analyze</c>, <c>llc-calibrate</c>
/// and the sweep machinery — is generic and lives outside any paper.
/// </summary>
public abstract class Experiment<TRecipe, TRun> : IExperiment where TRecipe : Recipe, new() where TRun : ExperimentRun
{
    public abstract string Name { get; }
    public abstract string Description { get; }

    /// <summary>The training length when <c>--steps</c> is not given (e.g. epochs × steps per epoch).</summary>
    public abstract int DefaultSteps(TRecipe recipe);

    /// <summary>One line naming the recipe's main settings, printed when a run starts.</summary>
    public abstract string Describe(TRecipe recipe);

    /// <summary>The paper's task: the run's data, model (on <paramref name="device"/>), optimizer and loss.</summary>
    public abstract TRun CreateRun(TRecipe recipe, ulong seed, int steps, Device device);

    /// <summary>
    /// The paper's analysis and report of a trained model (on the CPU): figures and report.md in the run
    /// folder; returns a one-line headline and the numbers for analysis.json (which the framework writes).
    /// </summary>
    protected abstract AnalysisOutcome Analyze(TRun run, RunFolder folder, TextWriter output);

    /// <summary>The paper's sweep (groups of settings, the aggregated report), or null when it has none.</summary>
    public virtual ISweepDesign? Sweep => null;

    public virtual bool HasDevelopment => false;

    /// <summary>The analysis over checkpoints; experiments with <see cref="HasDevelopment"/> override it.</summary>
    protected virtual void AnalyzeDevelopment(TRun run, RunFolder folder, TextWriter output) =>
        throw new UsageException($"the {Name} experiment has no development analysis");

    /// <summary>The options generated from <typeparamref name="TRecipe"/>.</summary>
    public RecipeOptions<TRecipe> Options { get; } = new();

    public IReadOnlyList<RecipeSetting> Settings => Options.Settings;

    public IEnumerable<ICliCommand> Commands()
    {
        yield return new ExperimentCommand<TRecipe, TRun>(this);
        if (Sweep is { } sweep)
        {
            yield return new SweepCommand(this, sweep);
            yield return new SweepReportCommand(Name, sweep);
        }
    }

    const string MicroBatchKey = "micro_batch", DenormalsKey = "denormals";

    /// <summary>
    /// The recipe, seed and length a run folder's config.json records (validated). A config.json without
    /// <c>micro_batch</c> (written before the setting existed, when every batch ran whole) reads as 0, one without
    /// <c>denormals</c> (written when denormals were always kept) as <c>keep</c>.
    /// </summary>
    public StoredRun<TRecipe> ReadStored(RunFolder folder)
    {
        var stored = folder.ReadConfig() ?? throw new UsageException($"'{folder.Root}' has no {RunFolder.ConfigFileName}: not a run folder");
        string experiment = stored["experiment"] is JsonValue e && e.TryGetValue(out string? name) ? name : "?";
        if (experiment != Name) throw new UsageException($"'{folder.Root}' holds a '{experiment}' run, not a '{Name}' run");
        var recipeKeys = new JsonObject();
        foreach (var (key, value) in stored)
            if (!CommonSettings.ConfigKeys.Contains(key)) recipeKeys[key] = value?.DeepClone();
        // A run written before micro-batches existed trained whole batches: resuming or re-analysing it must too.
        recipeKeys.TryAdd(MicroBatchKey, 0);
        // Likewise a run written before the denormal setting existed kept denormals.
        recipeKeys.TryAdd(DenormalsKey, "keep");
        var recipe = RecipeOptions<TRecipe>.FromJson(recipeKeys, folder.ConfigPath);
        try
        {
            return new StoredRun<TRecipe>(recipe, stored["seed"]!.GetValue<ulong>(), stored["steps"]!.GetValue<int>(),
                stored["device"]?.GetValue<string>());
        }
        catch (Exception x) when (x is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new UsageException($"{folder.ConfigPath}: 'seed' and 'steps' must be non-negative integers", x);
        }
    }

    public ExperimentRun Load(RunFolder folder, long? step = null)
    {
        var stored = ReadStored(folder);
        long chosen = step ?? folder.LatestCheckpointStep() ?? throw new UsageException($"'{folder.Root}' has no checkpoints");
        if (!folder.CheckpointSteps().Contains(chosen))
            throw new UsageException($"'{folder.Root}' has no checkpoint at step {chosen} (it has {string.Join(", ", folder.CheckpointSteps())})");
        var run = CreateRun(stored.Recipe, stored.Seed, stored.Steps, CpuDevice.Instance);
        string path = folder.CheckpointPath(chosen);
        try { run.LoadWeights(path); }
        catch (CheckpointException x) { throw new UsageException(x.Message, x); }
        if (run.Model.Parameters.FirstNonFinite() is { } broken)
            throw new UsageException($"checkpoint '{path}' holds non-finite weights ({broken}): nothing to analyse");
        return run;
    }

    public string Analyze(ExperimentRun run, RunFolder folder, TextWriter output)
    {
        var outcome = Analyze(Cast(run), folder, output);
        folder.WriteAnalysis(outcome.Headline, outcome.Numbers);
        return outcome.Headline;
    }

    public void AnalyzeDevelopment(ExperimentRun run, RunFolder folder, TextWriter output) => AnalyzeDevelopment(Cast(run), folder, output);

    TRun Cast(ExperimentRun run) => run as TRun
        ?? throw new ArgumentException($"{Name}: expected a {typeof(TRun).Name}, got a {run.GetType().Name}", nameof(run));
}

/// <summary>What an analysis found: a one-line headline (progress lines, sweep logs) and its numbers (analysis.json, which sweep reports aggregate).</summary>
public sealed record AnalysisOutcome(string Headline, JsonObject Numbers);

/// <summary>What a run folder's config.json records: the recipe, seed, length and device of the run.</summary>
public sealed record StoredRun<TRecipe>(TRecipe Recipe, ulong Seed, int Steps, string? Device);
