using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Forge.Kernels;

/// <summary>
/// Per-thread packing buffers, allocated on a thread's first GEMM and then reused, so steady-state
/// calls allocate nothing (callers ask for the largest size they will ever need). They live on the pinned object heap (stable addresses, freed with the thread) and are
/// handed out 64-byte aligned so every packed vector load stays within one cache line.
/// </summary>
static unsafe class GemmBuffers<T> where T : unmanaged
{
    const int Alignment = 64;

    [ThreadStatic] static T[]? t_packedB;
    [ThreadStatic] static T[]? t_packedA;
    [ThreadStatic] static T[]? t_partials;

    /// <summary>This thread's buffer for a packed panel of B: at least <paramref name="length"/> elements.</summary>
    public static T* PackedB(int length) => Get(ref t_packedB, length);

    /// <summary>This thread's buffer for packed slivers of A: at least <paramref name="length"/> elements.</summary>
    public static T* PackedA(int length) => Get(ref t_packedA, length);

    /// <summary>This thread's buffer for the partial products of a split-k GEMM (<see cref="GemmSplitK"/>): at least <paramref name="length"/> elements.</summary>
    public static T* Partials(int length) => Get(ref t_partials, length);

    static T* Get(ref T[]? buffer, int length)
    {
        int padded = length + Alignment / sizeof(T);
        if (buffer is null || buffer.Length < padded) buffer = GC.AllocateUninitializedArray<T>(padded, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (T*)((start + Alignment - 1) & ~(nuint)(Alignment - 1));
    }
}
