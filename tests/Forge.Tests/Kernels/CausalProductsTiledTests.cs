using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// The register-tiled float attention products must be bit-identical to the generic loops they replace: the pinned
/// numbers of earlier runs (and every recorded result) depend on that order. Awkward sizes: t and dHead below, at
/// and across the tile widths (4 rows, 8 lanes of the generic loop, 16 and 32 columns), rows of several heads apart,
/// a head other than the first.
/// </summary>
public unsafe class CausalProductsTiledTests
{
    static IEnumerable<TestCaseData> Shapes()
    {
        foreach (int t in new[] { 1, 2, 3, 4, 5, 7, 8, 11, 16, 17, 21, 33, 64 })
        foreach (int n in new[] { 1, 5, 8, 15, 16, 17, 24, 32, 33, 48, 64, 71 })
            yield return new TestCaseData(t, n, t % 3 + 1);
    }

    [TestCaseSource(nameof(Shapes))]
    public void TiledProducts_AreBitIdenticalToTheGenericLoops(int t, int n, int heads)
    {
        if (!CausalProductsTiled.IsSupported) Assert.Ignore("this CPU has neither AVX-512 nor AVX2 with FMA: the generic loops run");
        int rowStride = heads * n;
        var rng = new Random(t * 1000 + n);
        float[] b = Values(rng, t * rowStride), lower = Values(rng, t * t);
        const float factor = 0.37f;

        foreach (bool accumulate in new[] { false, true })
        {
            float[] start = Values(rng, t * rowStride);
            float[] f1 = (float[])start.Clone(), s1 = (float[])start.Clone(), f2 = (float[])start.Clone(), s2 = (float[])start.Clone();
            int offset = heads > 1 ? n : 0;   // the second head of a multi-head buffer
            fixed (float* pl = lower, pb0 = b, pf0 = f1, ps0 = s1, pf20 = f2, ps20 = s2)
            {
                float* pb = pb0 + offset, pf1 = pf0 + offset, ps1 = ps0 + offset, pf2 = pf20 + offset, ps2 = ps20 + offset;
                CausalProducts.LowerTimesRows(pl, pb, pf1, t, n, rowStride, factor, accumulate);
                CausalProducts.LowerTimesRowsGeneric(pl, pb, ps1, t, n, rowStride, factor, accumulate);
                CausalProducts.LowerTransposedTimesRows(pl, pb, pf2, t, n, rowStride, factor, accumulate);
                CausalProducts.LowerTransposedTimesRowsGeneric(pl, pb, ps2, t, n, rowStride, factor, accumulate);
            }
            AssertBits(f1, s1, $"LowerTimesRows (accumulate {accumulate})");
            AssertBits(f2, s2, $"LowerTransposedTimesRows (accumulate {accumulate})");
        }
    }

    /// <summary>RowDots reduces four dots at once (horizontal adds in Vector256.Sum's order): the bits of one reduction per dot.</summary>
    [TestCaseSource(nameof(Shapes))]
    public void RowDots_AreBitIdenticalToOneReductionPerDot(int t, int n, int heads)
    {
        int rowStride = heads * n;
        var rng = new Random(t * 1000 + n + 7);
        float[] a = Values(rng, t * rowStride), b = Values(rng, t * rowStride);
        float[] fast = new float[t * t], reference = new float[t * t];
        fixed (float* pa = a, pb = b, pf = fast, pr = reference)
        {
            int offset = heads > 1 ? n : 0;
            CausalProducts.RowDots(pa + offset, pb + offset, pf, t, n, rowStride, 0.37f, float.NegativeInfinity);
            CausalProducts.RowDotsGeneric(pa + offset, pb + offset, pr, t, n, rowStride, 0.37f, float.NegativeInfinity);
        }
        AssertBits(fast, reference, "RowDots");
    }

    // Magnitudes over several decades, so that a different summation order would show in the last bits.
    static float[] Values(Random rng, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-2, 3)));
        return values;
    }

    static void AssertBits(float[] actual, float[] expected, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, the generic loop gives {expected[i]:R}");
    }
}
