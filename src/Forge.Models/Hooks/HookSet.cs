using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Hooks;

/// <summary>
/// What a forward pass does at its hook points: record activations into a <see cref="Cache"/> and/or
/// replace them (interventions). A hook is a function from the activation to its replacement, built
/// from differentiable ops, so interventions work under backward and tape replay too.
/// <see cref="Interventions"/> has the usual ones (ablation, patching).
/// </summary>
public sealed class HookSet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Dictionary<string, List<Func<Var<T>, Var<T>>>> _hooks = new();

    /// <summary>Where activations are recorded (null: nothing is recorded).</summary>
    public ActivationCache<T>? Cache { get; set; }

    /// <summary>
    /// Run attention unfused (q·kᵀ, softmax, ·v as separate ops) so that scores and pattern are
    /// real graph values whose gradients are available. Set automatically when a hook targets them.
    /// </summary>
    public bool CacheGradients { get; set; }

    public HookSet<T> Add(string hookName, Func<Var<T>, Var<T>> hook)
    {
        if (!HookNames.IsValid(hookName)) throw new ArgumentException($"HookSet: unknown hook point '{hookName}' (see HookNames for the list)");
        if (!_hooks.TryGetValue(hookName, out var list)) _hooks[hookName] = list = [];
        list.Add(hook);
        return this;
    }

    public bool HasIntervention(string hookName) => _hooks.ContainsKey(hookName);

    /// <summary>True when the hook point is used at all (recorded or intervened on).</summary>
    public bool Touches(string hookName) => HasIntervention(hookName) || (Cache?.Wants(hookName) ?? false);

    /// <summary>Applies the interventions registered at <paramref name="hookName"/> in order, then records the result.</summary>
    public Var<T> Apply(string hookName, Var<T> value)
    {
        if (_hooks.TryGetValue(hookName, out var list))
            foreach (var hook in list)
            {
                var replaced = hook(value);
                if (!Shape.SameShape(replaced.ShapeSpan, value.ShapeSpan))
                    throw new ShapeException($"hook '{hookName}'", "an intervention changed the activation's shape", value.Shape, replaced.Shape);
                value = replaced;
            }
        if (Cache is { } cache && cache.Wants(hookName)) cache.Store(hookName, value);
        return value;
    }
}
