using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Hooks;

/// <summary>
/// Ready-made hooks: ablations and activation patching, for the whole activation or one head of a
/// hook with a head axis. Each is built from differentiable ops — out = x·keep + replacement·(1 − keep)
/// with a constant 0/1 mask over the head axis — so gradients and tape replay see the edited model.
/// </summary>
public static class Interventions
{
    /// <summary>Sets the activation (or one head of it) to zero.</summary>
    public static Func<Var<T>, Var<T>> ZeroAblate<T>(string hookName, int? head = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        x => Blend(hookName, x, null, head);

    /// <summary>
    /// Replaces the activation (or one head) by its mean over the batch axis of
    /// <paramref name="reference"/> (an activation recorded on a reference batch), position by position.
    /// </summary>
    public static Func<Var<T>, Var<T>> MeanAblate<T>(string hookName, Tensor<T> reference, int? head = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor<T> mean;
        using (GradMode.NoGrad()) mean = Var<T>.Constant(reference).Mean(0, keepDim: true).Data;
        return x => Blend(hookName, x, mean, head);
    }

    /// <summary>
    /// Activation patching: replaces the activation (or one head) by <paramref name="source"/>, the
    /// same hook's activation from another run (same shape, or batch 1 to broadcast).
    /// </summary>
    public static Func<Var<T>, Var<T>> Patch<T>(string hookName, Tensor<T> source, int? head = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        x => Blend(hookName, x, source, head);

    static Var<T> Blend<T>(string hookName, Var<T> x, Tensor<T>? replacement, int? head) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = x.Shape;
        if (replacement is not null && Shape.Broadcast($"hook '{hookName}'", replacement.Shape, shape) is var target && !Shape.SameShape(target, shape))
            throw new ShapeException($"hook '{hookName}'", "the replacement does not fit the activation", replacement.Shape, shape);
        var replacementVar = replacement is null ? null : Var<T>.Constant(replacement.ToDevice(x.Data.Device));
        if (head is null) return replacementVar is null ? x * T.Zero : replacementVar + x * T.Zero; // keeps the activation's shape

        if (!HookNames.HasHeadAxis(hookName)) throw new ArgumentException($"hook '{hookName}' has no head axis; per-head interventions need q, k, v, z, result, attn_scores or pattern");
        int axis = HookNames.HeadAxis(hookName), heads = shape[axis];
        if (head < 0 || head >= heads) throw new ArgumentOutOfRangeException(nameof(head), head, $"hook '{hookName}' has {heads} heads");
        var maskShape = Enumerable.Repeat(1, shape.Length).ToArray();
        maskShape[axis] = heads;
        var keep = Tensor.Ones<T>(maskShape);
        keep.AsSpan()[head.Value] = T.Zero;
        var kept = x * Var<T>.Constant(keep.ToDevice(x.Data.Device));
        if (replacementVar is null) return kept;
        var drop = Tensor.Zeros<T>(maskShape);
        drop.AsSpan()[head.Value] = T.One;
        return kept + replacementVar * Var<T>.Constant(drop.ToDevice(x.Data.Device));
    }
}
