using System.Numerics;

namespace Forge.Tests.Kernels;

/// <summary>Test operands: reproducible values drawn uniformly from [−1, 1).</summary>
internal static class Uniform
{
    /// <summary><paramref name="n"/> values from <see cref="System.Random"/>(<paramref name="seed"/>), uniform in [−1, 1).</summary>
    public static T[] Values<T>(int n, int seed) where T : INumberBase<T>
    {
        var random = new Random(seed);
        var values = new T[n];
        for (int i = 0; i < n; i++) values[i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        return values;
    }
}
