using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Forge.Kernels.Threading;

/// <summary>
/// Per-thread scratch arrays: each lives in a [ThreadStatic] field of its owner, is allocated on the thread's first
/// use (and again only when a larger size is asked for), so steady-state calls allocate nothing. They are on the pinned
/// object heap (stable addresses, freed with the thread) and handed out 64-byte aligned, so every vector load stays
/// within one cache line and a vectorised library call groups the elements the same way whatever the caller's buffer.
/// </summary>
static unsafe class AlignedScratch
{
    /// <summary>Bytes of alignment of every pointer handed out: one cache line.</summary>
    public const int Alignment = 64;

    /// <summary>The start, 64-byte aligned, of at least <paramref name="length"/> elements of this thread's <paramref name="buffer"/>, growing it when too small.</summary>
    public static T* Get<T>(ref T[]? buffer, int length) where T : unmanaged
    {
        int padded = length + Alignment / sizeof(T);
        if (buffer is null || buffer.Length < padded) buffer = GC.AllocateUninitializedArray<T>(padded, pinned: true);
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (T*)((start + Alignment - 1) & ~(nuint)(Alignment - 1));
    }
}
