using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Hooks;

public static class HookExtensions
{
    /// <summary>Passes <paramref name="value"/> through hook point <paramref name="name"/>; without hooks it is returned unchanged.</summary>
    public static Var<T> Hook<T>(this HookSet<T>? hooks, string name, Var<T> value) where T : unmanaged, IFloatingPointIeee754<T> =>
        hooks is null ? value : hooks.Apply(name, value);
}
