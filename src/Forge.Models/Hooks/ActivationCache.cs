using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Hooks;

/// <summary>
/// Activations recorded at hook points during a forward pass, by TransformerLens name
/// (<c>blocks.0.attn.hook_pattern</c>, …). Entries are the very values the forward pass used, so after
/// a backward pass <see cref="Gradient"/> gives ∂loss/∂activation.
/// </summary>
public sealed class ActivationCache<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Dictionary<string, Var<T>> _entries = new();
    readonly Func<string, bool>? _filter;

    /// <param name="filter">Which hook points to record (null: all).</param>
    public ActivationCache(Func<string, bool>? filter = null) => _filter = filter;

    public bool Wants(string hookName) => _filter?.Invoke(hookName) ?? true;

    internal void Store(string hookName, Var<T> value) => _entries[hookName] = value;

    public IEnumerable<string> Names => _entries.Keys;
    public bool Contains(string hookName) => _entries.ContainsKey(hookName);

    /// <summary>The activation recorded at <paramref name="hookName"/>.</summary>
    public Tensor<T> this[string hookName] => Get(hookName).Data;

    /// <summary>∂loss/∂activation after a backward pass (only for activations on the gradient path).</summary>
    public Tensor<T> Gradient(string hookName)
    {
        var value = Get(hookName);
        if (!value.RequiresGrad || !value.HasGrad)
            throw new InvalidOperationException($"ActivationCache: no gradient for '{hookName}' (run backward first; fused attention scores/pattern need hooks with CacheGradients = true)");
        return value.Grad;
    }

    Var<T> Get(string hookName) => _entries.TryGetValue(hookName, out var value) ? value
        : throw new KeyNotFoundException($"ActivationCache: no activation '{hookName}' (recorded: {string.Join(", ", _entries.Keys.Take(12))}{(_entries.Count > 12 ? ", …" : "")})");
}
