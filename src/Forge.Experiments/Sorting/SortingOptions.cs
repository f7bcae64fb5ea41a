using System.CommandLine;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Sorting;

/// <summary>
/// The sorting command's own options. Precedence: recipe defaults, then the <c>--config</c> file,
/// then options given on the command line.
/// </summary>
public sealed class SortingOptions
{
    static readonly SortingRecipe Defaults = new();
    readonly List<(Option Option, Func<SortingRecipe, ParseResult, SortingRecipe> Apply)> _overrides = [];

    public SortingOptions()
    {
        Add(OptionFactory.Int("--list-length", "Numbers per list (n).", Defaults.ListLength, 1), (r, v) => r with { ListLength = v });
        Add(OptionFactory.Int("--max-value", "Numbers are drawn from 0..max_value.", Defaults.MaxValue, 1), (r, v) => r with { MaxValue = v });
        Add(OptionFactory.Double("--gap-mean", "Controlled gaps: lists with i.i.d. 1+Geometric gaps of this mean (default: uniform lists).", 0, 1), (r, v) => r with { GapMean = v });
        Add(OptionFactory.Int("--heads", "Attention heads.", Defaults.Heads, 1), (r, v) => r with { Heads = v });
        Add(OptionFactory.Int("--d-model", "Residual width.", Defaults.DModel, 1), (r, v) => r with { DModel = v });
        Add(OptionFactory.Int("--d-head", "Head width.", Defaults.DHead, 1), (r, v) => r with { DHead = v });
        Add(new Option<bool>("--no-layernorm") { Description = "Train without LayerNorm." }, (r, v) => r with { LayerNorm = !v });
        Add(OptionFactory.Int("--train-size", "Lists in the fixed training set.", Defaults.TrainSize, 1), (r, v) => r with { TrainSize = v });
        Add(OptionFactory.Int("--val-size", "Lists in the validation set.", Defaults.ValSize, 1), (r, v) => r with { ValSize = v });
        Add(OptionFactory.Int("--batch-size", "Lists per step.", Defaults.BatchSize, 1), (r, v) => r with { BatchSize = v });
        Add(OptionFactory.Int("--epochs", "Passes over the training set (sets the steps unless --steps is given).", Defaults.Epochs, 1), (r, v) => r with { Epochs = v });
        Add(OptionFactory.Double("--lr", "Learning rate of the first epoch.", Defaults.LearningRate, 0), (r, v) => r with { LearningRate = v });
        Add(OptionFactory.Double("--lr-final", "Learning rate of the last epoch (linear per epoch in between).", Defaults.FinalLearningRate, 0), (r, v) => r with { FinalLearningRate = v });
        Add(OptionFactory.Double("--weight-decay", "Adam's coupled L2 weight decay.", Defaults.WeightDecay, 0), (r, v) => r with { WeightDecay = v });
        Add(new Option<string>("--checkpoints") { Description = "Checkpoint steps: log:N, linear:K or log:N+linear:K.", DefaultValueFactory = _ => Defaults.Checkpoints }, (r, v) => r with { Checkpoints = v });
        Add(OptionFactory.Int("--eval-every", "Validate every this many steps.", Defaults.EvalEvery, 1), (r, v) => r with { EvalEvery = v });
        Add(OptionFactory.Int("--llc-chains", "LLC: SGLD chains.", Defaults.LlcChains, 1), (r, v) => r with { LlcChains = v });
        Add(OptionFactory.Int("--llc-draws", "LLC: draws per chain after burn-in.", Defaults.LlcDraws, 1), (r, v) => r with { LlcDraws = v });
        Add(OptionFactory.Int("--llc-burn-in", "LLC: burn-in steps per chain.", Defaults.LlcBurnIn, 0), (r, v) => r with { LlcBurnIn = v });
        Add(OptionFactory.Double("--llc-epsilon", "LLC: SGLD step size ε.", Defaults.LlcEpsilon, 0), (r, v) => r with { LlcEpsilon = v });
        Add(OptionFactory.Double("--llc-gamma", "LLC: localisation strength γ.", Defaults.LlcGamma, 0), (r, v) => r with { LlcGamma = v });
        Add(OptionFactory.Double("--llc-nbeta", "LLC: nβ (default batch/ln(batch)).", 0, 0), (r, v) => r with { LlcNBeta = v });
        Add(OptionFactory.Int("--llc-batch", "LLC: SGLD minibatch size.", Defaults.LlcBatchSize, 2), (r, v) => r with { LlcBatchSize = v });
        NoAnalysis = new Option<bool>("--no-analysis") { Description = "Train only; skip the analysis and the report." };
    }

    public Option<bool> NoAnalysis { get; }

    void Add<T>(Option<T> option, Func<SortingRecipe, T, SortingRecipe> apply) =>
        _overrides.Add((option, (recipe, parse) => apply(recipe, parse.GetValue(option)!)));

    public void AddTo(Command command)
    {
        foreach (var (option, _) in _overrides) command.Options.Add(option);
        command.Options.Add(NoAnalysis);
    }

    /// <summary>The recipe: defaults, then the config file's keys, then the options given explicitly.</summary>
    public SortingRecipe Bind(ParseResult parse, CommonSettings common)
    {
        var recipe = common.Config is null ? new SortingRecipe() : ConfigFile.Deserialize<SortingRecipe>(common.Config, common.ConfigPath!);
        foreach (var (option, apply) in _overrides)
            if (parse.GetResult(option) is { Implicit: false }) recipe = apply(recipe, parse);
        try { return recipe.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
    }
}
