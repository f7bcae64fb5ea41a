using System.Numerics;

namespace Forge.Tests.Kernels;

/// <summary>Seeded random inputs and tolerances for kernel tests, generic over the element type.</summary>
internal static class KernelTestData
{
    /// <summary>Sizes that are not multiples of any vector width, plus 1.</summary>
    public static readonly int[] AwkwardSizes = [1, 7, 33, 127];

    /// <summary>n values uniform in [low, high).</summary>
    public static T[] Uniform<T>(int n, int seed, double low = -1, double high = 1) where T : IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var values = new T[n];
        for (int i = 0; i < n; i++) values[i] = T.CreateChecked(low + (high - low) * random.NextDouble());
        return values;
    }

    /// <summary>n integers in [0, bound).</summary>
    public static int[] Indices(int n, int bound, int seed)
    {
        var random = new Random(seed);
        var values = new int[n];
        for (int i = 0; i < n; i++) values[i] = random.Next(bound);
        return values;
    }

    /// <summary>Relative tolerance between two implementations of one kernel: float ~1e-5, double ~1e-12.</summary>
    public static double Tolerance<T>() => typeof(T) == typeof(float) ? 1e-5 : 1e-12;

    public static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }

    public static T[] FromDouble<T>(ReadOnlySpan<double> values) where T : IFloatingPointIeee754<T>
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = T.CreateChecked(values[i]);
        return result;
    }
}

/// <summary>Element-wise comparisons with messages that say where and by how much.</summary>
internal static class KernelAssert
{
    /// <summary>
    /// |expected − actual| ≤ tolerance·max(scale, |expected|) for every element; NaNs must match NaNs
    /// and infinities must match exactly. <paramref name="scale"/> sets the absolute floor (values
    /// near zero that come out of sums of O(scale) terms).
    /// </summary>
    public static void Close<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, double tolerance, string what, double scale = 1)
        where T : IFloatingPointIeee754<T>
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
            if (double.IsNaN(e) || double.IsInfinity(e))
            {
                if (!(e.Equals(a))) Assert.Fail($"{what}[{i}]: expected {e}, got {a}");
                continue;
            }
            double error = Math.Abs(e - a), allowed = tolerance * Math.Max(scale, Math.Abs(e));
            if (!(error <= allowed)) Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (error {error:G3} > {allowed:G3})");
        }
    }

    public static void Close<T>(T expected, T actual, double tolerance, string what, double scale = 1)
        where T : IFloatingPointIeee754<T> => Close<T>([expected], [actual], tolerance, what, scale);

    /// <summary>Bitwise equality (for kernels whose fast path must match the reference exactly).</summary>
    public static void Equal<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : IFloatingPointIeee754<T>
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i])) Assert.Fail($"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    public static void AllFinite<T>(ReadOnlySpan<T> values, string what) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i])) Assert.Fail($"{what}[{i}] is {values[i]}");
    }
}
