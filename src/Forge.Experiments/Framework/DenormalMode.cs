using Forge.Kernels.Threading;

namespace Forge.Experiments.Framework;

/// <summary>
/// Puts the process's kernel threads in the denormal mode a recipe asks for (<see cref="Recipe.Denormals"/>) for the
/// length of a command; disposing puts back the mode that was there before (so a command run inside a longer-lived
/// process, as the tests do, leaves no trace).
/// </summary>
public sealed class DenormalMode : IDisposable
{
    readonly bool _before;

    DenormalMode(bool before) => _before = before;

    /// <summary>
    /// Flushes denormals to zero when the recipe says <c>flush</c> and this machine can (<see cref="Denormals.IsSupported"/>);
    /// otherwise keeps them, with a one-line note on <paramref name="output"/> when flushing was asked for.
    /// </summary>
    public static DenormalMode Apply(Recipe recipe, TextWriter output)
    {
        var scope = new DenormalMode(Denormals.FlushToZero);
        bool flush = recipe.FlushesDenormals && Denormals.IsSupported;
        if (recipe.FlushesDenormals && !flush) output.WriteLine("note: denormals are kept: flushing them to zero needs x86-64 Linux");
        Denormals.FlushToZero = flush;
        return scope;
    }

    public void Dispose() => Denormals.FlushToZero = _before;
}
