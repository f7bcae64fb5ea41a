using System.Numerics;

namespace Forge.Autograd.Ops;

/// <summary>
/// The rows an op's caller will read, for ops that may skip the others (<see cref="MatMulOp{T}"/>'s Linear,
/// <see cref="LayerNormOp{T}"/>): a tensor with the input's leading shape (every axis but the last), a row needed
/// where its entry is not 0 — a masked loss's weights serve as is. The ops read it at every replay, so it must be
/// the caller's own contiguous buffer on the input's device (a copy made at recording would go stale).
/// </summary>
internal static class NeededRows
{
    public static void Check<T>(string op, Var<T> x, Tensor<T>? neededRows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (neededRows is null) return;
        if (!Forge.Shape.SameShape(neededRows.ShapeSpan, x.ShapeSpan[..^1]))
            throw new ShapeException(op, "the needed rows must have the input's shape without its last axis", x.Shape, neededRows.Shape);
        if (!neededRows.IsContiguous)
            throw new ArgumentException($"{op}: the needed rows must be a contiguous tensor (they are read at every replay)", nameof(neededRows));
        if (neededRows.Device != x.Data.Device)
            throw new InvalidOperationException($"{op}: the needed rows live on '{neededRows.Device.Name}', the input on '{x.Data.Device.Name}'");
    }
}
