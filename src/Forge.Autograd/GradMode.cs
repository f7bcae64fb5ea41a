namespace Forge.Autograd;

/// <summary>
/// Turns gradient tracking off inside a scope (<c>using (GradMode.NoGrad()) { … }</c>), like
/// <c>torch.no_grad()</c>: ops compute values only, record nothing and produce outputs that do not
/// require grad. Scopes nest; the setting is per thread.
/// </summary>
public static class GradMode
{
    [ThreadStatic] static int t_disabledDepth;

    public static bool IsDisabled => t_disabledDepth > 0;

    public static Scope NoGrad()
    {
        t_disabledDepth++;
        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => t_disabledDepth--;
    }
}
