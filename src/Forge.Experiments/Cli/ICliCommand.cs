using System.CommandLine;

namespace Forge.Experiments.Cli;

/// <summary>
/// One subcommand of <c>Forge.Experiments</c> (an experiment such as <c>sorting</c>, or a tool such as
/// <c>info</c>). A public class with a parameterless constructor that implements this interface in the
/// Forge.Experiments assembly registers itself: <see cref="CommandRegistry.Discover"/> finds it, so
/// adding an experiment never means editing a central list.
/// </summary>
public interface ICliCommand
{
    /// <summary>Builds the System.CommandLine command: its name, description, options and action.</summary>
    Command Create();
}
