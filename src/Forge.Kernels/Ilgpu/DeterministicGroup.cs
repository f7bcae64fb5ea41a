using ILGPU;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// A group-wide reduction that gives the same bits on every run: every thread writes its value to
/// shared memory, and after one barrier every thread folds all of them in index order — the same
/// order, hence the same rounding, whatever the scheduling. ILGPU.Algorithms' <c>GroupExtensions.AllReduce</c>
/// instead adds each warp's partial (on the CPU emulator: each thread's value) into shared memory with
/// atomics, so the order of a floating-point sum — hence its last bits — depends on which warp arrives
/// first: the same seed on the same device stopped giving the same numbers, and a resumed run drifted
/// from an uninterrupted one. This takes the same two barriers; the fold reads one broadcast shared
/// value per thread of the group, which a GPU serves without bank conflicts (a tree would need log₂
/// more barriers, which the CPU emulator — one OS thread per GPU thread — pays dearly for).
/// </summary>
internal static class DeterministicGroup
{
    /// <summary>The largest group this reduction serves (its shared buffer); <see cref="IlgpuBackend.RowGroupSize"/> never exceeds it.</summary>
    public const int MaxGroupSize = 256;

    /// <summary>The reduction of every thread's <paramref name="value"/> with <typeparamref name="TOp"/>, returned to all threads of the group.</summary>
    public static T AllReduce<T, TOp>(T value) where T : unmanaged where TOp : struct, IScanReduceOperation<T>
    {
        var shared = SharedMemory.Allocate<T>(MaxGroupSize);
        TOp op = default;
        shared[Group.IdxX] = value;
        Group.Barrier();
        T result = shared[0];
        for (int j = 1; j < Group.DimX; j++) result = op.Apply(result, shared[j]);
        Group.Barrier();   // everyone has read before a later call at this site overwrites the buffer
        return result;
    }
}
