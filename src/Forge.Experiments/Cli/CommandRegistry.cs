using System.CommandLine;
using System.Reflection;

namespace Forge.Experiments.Cli;

/// <summary>The set of subcommands the program offers, and the root command built from them.</summary>
public sealed class CommandRegistry
{
    readonly List<ICliCommand> _commands = [];

    /// <summary>The registered commands, in registration order.</summary>
    public IReadOnlyList<ICliCommand> Commands => _commands;

    /// <summary>Adds one command.</summary>
    public CommandRegistry Register(ICliCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        _commands.Add(command);
        return this;
    }

    /// <summary>Adds the commands of one experiment (its training command, and its sweep commands when it has a sweep).</summary>
    public CommandRegistry Register(Framework.IExperiment experiment)
    {
        foreach (var command in experiment.Commands()) Register(command);
        return this;
    }

    /// <summary>
    /// A registry holding the commands of every experiment (<see cref="Framework.ExperimentCatalog"/>) and
    /// every public, concrete <see cref="ICliCommand"/> with a parameterless constructor in
    /// <paramref name="assembly"/> (default: Forge.Experiments), ordered by name so <c>--help</c> lists
    /// them in a stable order.
    /// </summary>
    public static CommandRegistry Discover(Assembly? assembly = null)
    {
        assembly ??= typeof(CommandRegistry).Assembly;
        var registry = new CommandRegistry();
        var experiments = assembly == typeof(CommandRegistry).Assembly ? Framework.ExperimentCatalog.All : Framework.ExperimentCatalog.Discover(assembly);
        foreach (var experiment in experiments) registry.Register(experiment);
        var types = assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && !t.IsGenericTypeDefinition && typeof(ICliCommand).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var type in types) registry.Register((ICliCommand)Activator.CreateInstance(type)!);
        return registry;
    }

    /// <summary>Builds the root command <c>Forge.Experiments</c> with every registered subcommand.</summary>
    public RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "Forge.Experiments: train, analyse and report the Forge replications. " +
            "One subcommand per experiment and per tool; run '<command> --help' for its options.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var factory in _commands)
        {
            var command = factory.Create();
            if (!names.Add(command.Name))
                throw new InvalidOperationException($"Two commands are named '{command.Name}'.");
            root.Subcommands.Add(command);
        }
        return root;
    }
}
