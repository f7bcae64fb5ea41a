using System.Numerics;

namespace Forge.Kernels;

/// <summary>Plain scalar versions of <see cref="Embedding"/> (same signatures); the tests compare against these.</summary>
public static class EmbeddingReference
{
    public static void Gather<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> table, Span<T> y, int vocab, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < d; j++) y[i * d + j] = table[ids[i] * d + j];
    }

    public static void ScatterAdd<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> dy, Span<T> dTable, int vocab, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < d; j++) dTable[ids[i] * d + j] += dy[i * d + j];
    }
}
