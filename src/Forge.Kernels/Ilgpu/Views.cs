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

    /// <summary>Throws unless T is a type the ILGPU kernels exist for and the device can run it.</summary>
    public static void CheckType<T>(IlgpuBackend backend, string kernel)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"{kernel}: ILGPU kernels exist for float and double, not {typeof(T).Name}.");
        if (typeof(T) == typeof(double) && !backend.SupportsFloat64)
            throw new NotSupportedException($"{kernel}: {backend} does not support double precision.");
    }
}
