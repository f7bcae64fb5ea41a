using System.Reflection;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Framework;

/// <summary>
/// The experiments this program knows, found by reflection: every public, concrete
/// <see cref="IExperiment"/> with a parameterless constructor in Forge.Experiments. A new paper is
/// registered by existing — no central list to edit.
/// </summary>
public static class ExperimentCatalog
{
    static readonly Lazy<IReadOnlyList<IExperiment>> s_all = new(() => Discover(typeof(ExperimentCatalog).Assembly));

    /// <summary>Every experiment, ordered by name.</summary>
    public static IReadOnlyList<IExperiment> All => s_all.Value;

    /// <summary>The experiments in <paramref name="assembly"/>, ordered by name.</summary>
    public static IReadOnlyList<IExperiment> Discover(Assembly assembly) =>
        assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && !t.IsGenericTypeDefinition && typeof(IExperiment).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IExperiment)Activator.CreateInstance(t)!)
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>The experiment called <paramref name="name"/>; a usage error naming the known ones otherwise.</summary>
    public static IExperiment Named(string name, string? where = null) =>
        All.FirstOrDefault(e => e.Name == name)
        ?? throw new UsageException($"{(where is null ? "" : where + ": ")}unknown experiment '{name}' (known: {string.Join(", ", All.Select(e => e.Name))})");
}
