using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>Small helpers shared by the ILGPU kernel wrappers.</summary>
internal static class Views
{
    /// <summary>A view's length as an int for the shared argument checks (longer views count as int.MaxValue).</summary>
    public static int Length<T>(ArrayView1D<T, Stride1D.Dense> view) where T : unmanaged =>
        view.Length > int.MaxValue ? int.MaxValue : (int)view.Length;

    /// <summary>Groups needed to cover <paramref name="count"/> items with <paramref name="groupSize"/> each.</summary>
    public static int GroupsFor(long count, int groupSize) => (int)((count + groupSize - 1) / groupSize);

    /// <summary>
    /// How to cut a long per-thread loop when there are too few outputs to fill the device:
    /// <paramref name="outputs"/> threads, each walking <paramref name="length"/> items, become
    /// outputs × Splits threads, split s walking items [s·Chunk, min(length, (s + 1)·Chunk)), and a second
    /// pass adds the Splits partial results of each output in split order (deterministic). Aims at
    /// <paramref name="parallelThreads"/> threads in all with at least <paramref name="minChunk"/> items
    /// per split; (1, length) when the outputs alone are enough or the loop is short.
    /// </summary>
    public static (int Splits, int Chunk) SplitLoop(long outputs, int length, long parallelThreads, int minChunk)
    {
        if (outputs >= parallelThreads || length < 2 * minChunk) return (1, length);
        int splits = (int)Math.Min((parallelThreads + outputs - 1) / outputs, length / minChunk);
        if (splits < 2) return (1, length);
        int chunk = (length + splits - 1) / splits;
        return ((length + chunk - 1) / chunk, chunk);
    }

    /// <summary>Threads a launch needs to keep the device busy: 128 per group of <see cref="IlgpuBackend.ParallelGroups"/>.</summary>
    public static long ParallelThreads(IlgpuBackend backend) => backend.ParallelGroups * 128L;

    /// <summary>Throws unless T is a type the ILGPU kernels exist for and the device can run it.</summary>
    public static void CheckType<T>(IlgpuBackend backend, string kernel)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"{kernel}: ILGPU kernels exist for float and double, not {typeof(T).Name}.");
        if (typeof(T) == typeof(double) && !backend.SupportsFloat64)
            throw new NotSupportedException($"{kernel}: {backend} does not support double precision.");
    }
}
