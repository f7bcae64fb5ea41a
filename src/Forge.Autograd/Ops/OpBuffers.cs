using System.Numerics;

namespace Forge.Autograd.Ops;

/// <summary>Small helpers shared by the ops: spans of tensors and one-time scratch buffers.</summary>
internal static class OpBuffers
{
    /// <summary>Row-major elements of a contiguous CPU tensor.</summary>
    public static Span<T> Span<T>(Tensor<T> tensor) where T : unmanaged, INumberBase<T> => tensor.AsSpan();

    /// <summary>A scratch array, allocated on first use and kept by the op so replays allocate nothing.</summary>
    public static T[] Scratch<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length != length) buffer = new T[length];
        return buffer;
    }

    /// <summary>Product of the dimensions before the last one (the "rows" of a [..., cols] tensor).</summary>
    public static int Rows(ReadOnlySpan<int> shape) => shape.Length == 0 ? 1 : Shape.Count(shape[..^1]);
}
