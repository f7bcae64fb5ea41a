using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Per-thread packing buffers, allocated on a thread's first GEMM and then reused, so steady-state
/// calls allocate nothing (callers ask for the largest size they will ever need): <see cref="AlignedScratch"/> arrays,
/// pinned and handed out 64-byte aligned so every packed vector load stays within one cache line.
/// </summary>
static unsafe class GemmBuffers<T> where T : unmanaged
{
    [ThreadStatic] static T[]? t_packedB;
    [ThreadStatic] static T[]? t_packedA;
    [ThreadStatic] static T[]? t_partials;

    /// <summary>This thread's buffer for a packed panel of B: at least <paramref name="length"/> elements.</summary>
    public static T* PackedB(int length) => AlignedScratch.Get(ref t_packedB, length);

    /// <summary>This thread's buffer for packed slivers of A: at least <paramref name="length"/> elements.</summary>
    public static T* PackedA(int length) => AlignedScratch.Get(ref t_packedA, length);

    /// <summary>This thread's buffer for the partial products of a split-k GEMM (<see cref="GemmSplitK"/>): at least <paramref name="length"/> elements.</summary>
    public static T* Partials(int length) => AlignedScratch.Get(ref t_partials, length);
}
