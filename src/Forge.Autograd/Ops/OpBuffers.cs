using System.Numerics;

namespace Forge.Autograd.Ops;

/// <summary>Small helpers shared by the ops: one-time scratch buffers and row counts.</summary>
internal static class OpBuffers
{
    /// <summary>A scratch tensor on <paramref name="device"/>, allocated on first use and kept by the op so replays allocate nothing.</summary>
    public static Tensor<T> Scratch<T>(ref Tensor<T>? buffer, int[] shape, Device device) where T : unmanaged, INumberBase<T>
    {
        if (buffer is null || !Shape.SameShape(buffer.ShapeSpan, shape)) buffer = new Tensor<T>(shape, device);
        return buffer;
    }

    /// <summary>Product of the dimensions before the last one (the "rows" of a [..., cols] tensor).</summary>
    public static int Rows(ReadOnlySpan<int> shape) => shape.Length == 0 ? 1 : Shape.Count(shape[..^1]);
}
