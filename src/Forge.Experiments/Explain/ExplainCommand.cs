using System.CommandLine;
using System.Numerics;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Explain;

/// <summary>
/// <c>explain attention | layernorm | cross-entropy</c>: a worked example of one backward pass for learners.
/// It prints the forward values, then each backward step's result beside its float64 finite difference,
/// all computed by the engine's reference kernels. docs/attention-backward.md quotes the default output
/// verbatim (a test keeps the two equal). Options change the example: <c>--seed</c>, the sizes, and
/// <c>--dtype f32</c> to run the engine in single precision and watch the differences grow.
/// </summary>
public sealed class ExplainCommand : ICliCommand
{
    /// <summary>The seed of the documented examples.</summary>
    public const ulong DefaultSeed = 15;

    public Command Create()
    {
        var explain = new Command("explain",
            "Work through a backward pass step by step on a tiny example, each gradient beside its finite difference " +
            "(docs/attention-backward.md).");
        explain.Subcommands.Add(AttentionWalkthrough.Command());
        explain.Subcommands.Add(LayerNormWalkthrough.Command());
        explain.Subcommands.Add(CrossEntropyWalkthrough.Command());
        Func<ParseResult, int> noTopic = _ => throw new UsageException(
            $"explain needs a topic: {string.Join(", ", explain.Subcommands.Select(topic => topic.Name))}");
        explain.SetAction(noTopic);
        return explain;
    }

    /// <summary>
    /// One topic's subcommand: its size options plus <c>--seed</c> and <c>--dtype</c>. <paramref name="run"/>
    /// gets the parse result (for the sizes), the seed and whether to run in float64.
    /// </summary>
    internal static Command Topic(string name, string description, Option<int>[] sizes, Func<ParseResult, ulong, bool, Walkthrough> run)
    {
        var command = new Command(name, description);
        foreach (var size in sizes)
        {
            size.HelpName = "N";
            command.Options.Add(size);
        }
        var seed = OptionFactory.ULong("--seed", "Seed of the random example.", DefaultSeed);
        seed.HelpName = "N";
        var dtype = OptionFactory.Choice("--dtype",
            "Precision of the engine's passes; the finite differences are always float64.", "f64", "f64", "f32");
        dtype.HelpName = "f64|f32";
        command.Options.Add(seed);
        command.Options.Add(dtype);
        command.SetAction(parseResult =>
        {
            var walkthrough = run(parseResult, parseResult.GetValue(seed), parseResult.GetValue(dtype) == "f64");
            walkthrough.WriteTo(parseResult.InvocationConfiguration.Output);
            if (walkthrough.Passed) return ExitCodes.Success;
            parseResult.InvocationConfiguration.Error.WriteLine("error: a backward step does not match its finite difference (✗ above)");
            return ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>
    /// How close a backward result must be to its float64 finite difference: 1e-8 in float64 (the finite
    /// difference's own error is ~1e-10); in float32 the engine's rounding (~1e-7 relative) dominates.
    /// </summary>
    public static double Tolerance<T>() => typeof(T) == typeof(double) ? 1e-8 : 1e-5;

    public static string TypeName<T>() => typeof(T) == typeof(double) ? "float64" : "float32";
}
