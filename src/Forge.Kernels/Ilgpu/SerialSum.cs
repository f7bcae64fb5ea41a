using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Device code: one thread's running sum over a strided run of values, in index order, four loads per loop trip.
/// ILGPU does not unroll loops, so a plain <c>sum += values[i]</c> loop had one global load in flight and waited out
/// each; the serial passes over partial sums (split-k's, the split reductions', LayerNorm's dw/db) and the column sums
/// run few threads over up to hundreds of values each. The additions keep their order, so the sum is the same, bit for
/// bit; inside the unrolled block ptxas is free to issue the four loads together
/// (<c>IlgpuGpuCompileTests.SerialPasses_LoadFourValuesPerTrip</c>).
/// </summary>
internal static class SerialSum
{
    /// <summary>sum + values[first] + values[first + step] + … over <paramref name="count"/> values, added left to right.</summary>
    public static T Add<T>(T sum, ArrayView1D<T, Stride1D.Dense> values, long first, long step, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long at = first;
        int i = 0;
        for (; i + 4 <= count; i += 4, at += 4 * step)
        {
            T v0 = values[at], v1 = values[at + step], v2 = values[at + 2 * step], v3 = values[at + 3 * step];
            sum += v0;
            sum += v1;
            sum += v2;
            sum += v3;
        }
        for (; i < count; i++, at += step) sum += values[at];
        return sum;
    }
}
