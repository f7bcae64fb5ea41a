using ILGPU;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// A group-wide reduction that gives the same bits on every run: every thread writes its value to shared memory; after
/// a barrier, one thread per slice of √(group) values folds its slice in index order into a partial; after a second
/// barrier every thread folds the partials in index order — a fixed order, hence the same rounding, whatever the
/// scheduling. ILGPU.Algorithms' <c>GroupExtensions.AllReduce</c> instead adds each warp's partial (on the CPU emulator:
/// each thread's value) into shared memory with atomics, so the order of a floating-point sum — hence its last bits —
/// depends on which warp arrives first: the same seed on the same device stopped giving the same numbers, and a resumed
/// run drifted from an uninterrupted one.
/// <para>
/// The two levels keep the serial part short: a group of 256 threads folds 16 + 16 values per thread instead of all 256
/// (until 2026-12-07 every thread read every value, 256 dependent shared loads per reduction — for a LayerNorm row
/// that was most of the kernel). Still two barriers, as before (the CPU emulator, one OS thread per GPU thread, pays
/// for each), and no warp shuffles, so the same code builds for OpenCL devices without subgroups.
/// </para>
/// </summary>
internal static class DeterministicGroup
{
    /// <summary>The largest group this reduction serves (its shared buffer); <see cref="IlgpuBackend.RowGroupSize"/> never exceeds it.</summary>
    public const int MaxGroupSize = 256;

    /// <summary>Room for the partials: slices are at least √(group) long, so a group of up to 256 has at most 16.</summary>
    const int MaxPartials = 32;

    /// <summary>The slice length for <paramref name="threads"/>: the smallest power of two whose square covers the group.</summary>
    public static int SliceLength(int threads)
    {
        int slice = 1;
        while (slice * slice < threads) slice *= 2;
        return slice;
    }

    /// <summary>The reduction of every thread's <paramref name="value"/> with <typeparamref name="TOp"/>, returned to all threads of the group.</summary>
    public static T AllReduce<T, TOp>(T value) where T : unmanaged where TOp : struct, IScanReduceOperation<T>
    {
        var shared = SharedMemory.Allocate<T>(MaxGroupSize);
        var partials = SharedMemory.Allocate<T>(MaxPartials);
        TOp op = default;
        int threads = Group.DimX, t = Group.IdxX, slice = SliceLength(threads), slices = (threads + slice - 1) / slice;
        shared[t] = value;
        Group.Barrier();
        if (t < slices)
        {
            int first = t * slice, end = Math.Min(threads, first + slice);
            T partial = shared[first];
            for (int j = first + 1; j < end; j++) partial = op.Apply(partial, shared[j]);
            partials[t] = partial;
        }
        Group.Barrier();
        // No third barrier: a later call at this site writes `shared` only after this barrier (every read of it is
        // before), and `partials` only after its own first barrier, which no thread passes before all have read these.
        T result = partials[0];
        for (int j = 1; j < slices; j++) result = op.Apply(result, partials[j]);
        return result;
    }
}
