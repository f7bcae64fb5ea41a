namespace Forge.Experiments.Framework;

/// <summary>
/// Marks a property of a recipe record as a setting: it becomes a command-line option and a
/// config.json key, with its default taken from the record's initializer. Name, default and
/// description live in one place, so <c>--help</c> always shows the defaults the run really uses.
/// </summary>
/// <param name="description">One sentence for <c>--help</c>.</param>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
public sealed class SettingAttribute(string description) : Attribute
{
    public string Description { get; } = description;

    /// <summary>The option's name; default: <c>--</c> + the property name in kebab-case (<c>ListLength</c> → <c>--list-length</c>).</summary>
    public string? Option { get; init; }

    /// <summary>Smallest accepted value of a number (inclusive).</summary>
    public double Min { get; init; } = double.NegativeInfinity;

    /// <summary>Largest accepted value of a number (inclusive).</summary>
    public double Max { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// For a bool that defaults to true: the option is a flag that turns it off (<c>--no-layernorm</c>
    /// for <c>LayerNorm</c>), since a flag can only say "yes".
    /// </summary>
    public bool Negated { get; init; }

    /// <summary>For a nullable number: the word that stands for null on the command line and in help (e.g. <c>uniform</c>).</summary>
    public string? NullWord { get; init; }

    /// <summary>The placeholder in help (<c>--heads N</c>); default from the type.</summary>
    public string? HelpName { get; init; }
}
