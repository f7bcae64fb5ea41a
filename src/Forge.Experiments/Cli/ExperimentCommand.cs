using System.CommandLine;

namespace Forge.Experiments.Cli;

/// <summary>
/// Base class for an experiment subcommand: it has the common options (<see cref="CommonOptions"/>),
/// binds and applies them (threads), then calls <see cref="Run"/>. A subclass declares its name,
/// description and defaults, adds its own options in <see cref="AddOptions"/>, and does the work in
/// <see cref="Run"/>, writing to <see cref="ExperimentContext.Output"/>.
/// </summary>
public abstract class ExperimentCommand : ICliCommand
{
    /// <summary>The subcommand name (<c>sorting</c>), also the default run-folder prefix.</summary>
    public abstract string Name { get; }

    /// <summary>One sentence for <c>--help</c>.</summary>
    public abstract string Description { get; }

    /// <summary>Training steps when <c>--steps</c> is not given.</summary>
    protected abstract int DefaultSteps { get; }

    /// <summary>Seed when <c>--seed</c> is not given.</summary>
    protected virtual ulong DefaultSeed => 0;

    /// <summary>Adds experiment-specific options (read them in <see cref="Run"/> with <c>context.ParseResult.GetValue</c>).</summary>
    protected virtual void AddOptions(Command command) { }

    /// <summary>Runs the experiment; returns the exit code. Throw <see cref="UsageException"/> for user mistakes.</summary>
    protected abstract int Run(ExperimentContext context);

    public Command Create()
    {
        var command = new Command(Name, Description);
        var common = new CommonOptions(DefaultSteps, DefaultSeed);
        common.AddTo(command);
        AddOptions(command);
        command.SetAction(parseResult =>
        {
            var settings = common.Bind(parseResult);
            settings.Apply();
            var output = parseResult.InvocationConfiguration.Output;
            return Run(new ExperimentContext(Name, settings, parseResult, output));
        });
        return command;
    }
}

/// <summary>What an experiment's <see cref="ExperimentCommand.Run"/> receives.</summary>
/// <param name="Experiment">The command name.</param>
/// <param name="Settings">The bound common options.</param>
/// <param name="ParseResult">For the experiment's own options.</param>
/// <param name="Output">Where to write text for the user (stdout, or a test's writer).</param>
public sealed record ExperimentContext(string Experiment, CommonSettings Settings, ParseResult ParseResult, TextWriter Output);
