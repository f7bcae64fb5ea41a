namespace Forge;

/// <summary>
/// Seeded, reproducible random numbers (xoshiro256**, seeded through SplitMix64). The same seed gives
/// the same stream on every machine and .NET version — unlike <see cref="System.Random"/>, whose
/// algorithm is not part of its contract. <see cref="State"/> can be saved and restored so a resumed
/// training run continues the exact same stream.
/// </summary>
public sealed class Rng
{
    ulong _s0, _s1, _s2, _s3;
    double? _spareNormal;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
    }

    /// <summary>An independent stream derived from this seed and a stream id (e.g. 0 = init, 1 = data).</summary>
    public static Rng ForStream(ulong seed, ulong stream)
    {
        ulong x = seed ^ (0x9E3779B97F4A7C15UL * (stream + 1));
        return new Rng(SplitMix64(ref x));
    }

    /// <summary>The full generator state (for checkpoints); assigning it resumes the stream exactly.</summary>
    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3, _spareNormal.HasValue ? 1UL : 0UL, BitConverter.DoubleToUInt64Bits(_spareNormal ?? 0)];
        set
        {
            if (value.Length != 6) throw new ArgumentException($"Rng.State: expected 6 words, got {value.Length}");
            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
            _spareNormal = value[4] != 0 ? BitConverter.UInt64BitsToDouble(value[5]) : null;
        }
    }

    static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, n) without modulo bias (Lemire's method).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Rng.NextInt: n must be positive");
        ulong bound = (ulong)n;
        UInt128 product = (UInt128)NextUInt64() * bound;
        ulong low = (ulong)product;
        if (low < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (low < threshold)
            {
                product = (UInt128)NextUInt64() * bound;
                low = (ulong)product;
            }
        }
        return (int)(product >> 64);
    }

    /// <summary>Standard normal N(0, 1) by the Box–Muller transform (pairs; the spare is kept in the state).</summary>
    public double NextNormal()
    {
        if (_spareNormal is double spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Shuffles in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A uniformly random permutation of 0..n−1.</summary>
    public int[] Permutation(int n)
    {
        var result = new int[n];
        for (int i = 0; i < n; i++) result[i] = i;
        Shuffle(result.AsSpan());
        return result;
    }

    /// <summary>
    /// <paramref name="count"/> distinct values from 0..populationSize−1, in uniformly random order
    /// (a partial Fisher–Yates over a scratch array when the population is small, Floyd's algorithm otherwise).
    /// </summary>
    public int[] SampleWithoutReplacement(int populationSize, int count)
    {
        var result = new int[count];
        SampleWithoutReplacement(populationSize, result);
        return result;
    }

    /// <summary>Fills <paramref name="destination"/> with distinct values from 0..populationSize−1 in random order.</summary>
    public void SampleWithoutReplacement(int populationSize, Span<int> destination)
    {
        int count = destination.Length;
        if (count > populationSize || count < 0)
            throw new ArgumentOutOfRangeException(nameof(destination), count, $"Rng.SampleWithoutReplacement: cannot draw {count} distinct values from {populationSize}");
        if (populationSize <= 4096)
        {
            Span<int> pool = stackalloc int[populationSize];
            for (int i = 0; i < populationSize; i++) pool[i] = i;
            for (int i = 0; i < count; i++)
            {
                int j = i + NextInt(populationSize - i);
                (pool[i], pool[j]) = (pool[j], pool[i]);
                destination[i] = pool[i];
            }
            return;
        }
        var chosen = new HashSet<int>(count);
        for (int j = populationSize - count, filled = 0; j < populationSize; j++, filled++)
        {
            int pick = NextInt(j + 1);
            destination[filled] = chosen.Add(pick) ? pick : j;
            if (destination[filled] == j) chosen.Add(j);
        }
        Shuffle(destination); // Floyd's algorithm yields a random set, not a random order
    }
}
