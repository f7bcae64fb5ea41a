using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// Register-tiled float32 versions of two of <see cref="CausalProducts"/>' three products (pattern·v, dScores·k,
/// patternᵀ·dz, dScoresᵀ·q), for CPUs with AVX-512 or AVX2: the same float operations in the same order for every output
/// element, so the results are bit-identical to the generic loops (tests compare them bit for bit), only with
/// fewer loads per multiply-add.
/// <para>
/// Why: the generic <c>WeightedSum</c> computes one output row at a time and loads a row of values for every
/// multiply-add, so it runs at the speed of the loads. Here four output rows are computed at once over 32 (or 16)
/// columns in 512-bit registers: each element's sum is still one multiply-add chain over the same weights in the
/// same order; the four rows only share each load of a value row. The d ≥ 16·⌊n/16⌋ columns and the last t mod 4
/// rows go through the generic loop (per element, the same operations).
/// </para>
/// <para>
/// Tried and left out: a tiled <c>RowDots</c> (q·kᵀ, dz·vᵀ) with 16 keys across the lanes, keeping the generic
/// loop's eight partial sums per key and <c>Vector256.Sum</c>'s addition tree (bit-identical too). Transposing the
/// keys for each (batch, head) pair cost more than it saved: 1.5× slower at t = 21 and 32, even at t = 128, a few
/// per cent faster at t = 64 (one thread, 64–256 pairs).
/// </para>
/// </summary>
internal static unsafe class CausalProductsTiled
{
    /// <summary>Whether this CPU runs the tiled versions: AVX-512 F and FMA (<see cref="Wide"/>), or AVX2 and FMA (16 columns in two 256-bit vectors).</summary>
    public static bool IsSupported => Wide || (Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported && Vector256.IsHardwareAccelerated);

    /// <summary>True where the 512-bit versions run; elsewhere <see cref="Columns16Narrow"/> does each 16 columns in two 256-bit vectors.</summary>
    static bool Wide => Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <see cref="CausalProducts.LowerTimesRows{T}"/> for float: output_i (+)= factor · Σ_{j ≤ i} lower[i, j] · rows_j.
    /// </summary>
    public static void LowerTimesRows(float* lower, float* rows, float* output, int t, int n, int rowStride, float factor, bool accumulate)
    {
        int n16 = n & ~15, tiled = t & ~3;
        for (int i0 = 0; i0 < tiled; i0 += 4)
        {
            // Rows i0..i0+3 weigh rows 0..i0 together, then 1, 2 and 3 more each.
            float* w0 = lower + (long)i0 * t, w1 = w0 + t, w2 = w1 + t, w3 = w2 + t;
            float* o = output + (long)i0 * rowStride;
            int d = 0;
            for (; !Wide && d < n16; d += 16)
                Columns16Narrow(w0, w1, w2, w3, 1, rows + d, rowStride, 0, i0 + 1, o + d, rowStride, factor, accumulate);
            for (; d + 32 <= n16; d += 32)
                Columns32(w0, w1, w2, w3, 1, rows + d, rowStride, 0, i0 + 1, o + d, rowStride, factor, accumulate);
            if (d < n16)
                Columns16(w0, w1, w2, w3, 1, rows + d, rowStride, 0, i0 + 1, o + d, rowStride, factor, accumulate);
        }
        // The columns past n16 for the tiled rows, and every column of the last t mod 4 rows: the generic loop.
        if (n16 < n)
            for (int i = 0; i < tiled; i++)
                CausalProducts.WeightedSum(lower + (long)i * t, 1, rows + n16, rowStride, i + 1, output + (long)i * rowStride + n16, n - n16, factor, accumulate);
        for (int i = tiled; i < t; i++)
            CausalProducts.WeightedSum(lower + (long)i * t, 1, rows, rowStride, i + 1, output + (long)i * rowStride, n, factor, accumulate);
    }

    /// <summary>
    /// <see cref="CausalProducts.LowerTransposedTimesRows{T}"/> for float: output_j (+)= factor · Σ_{i ≥ j} lower[i, j] · rows_i.
    /// </summary>
    public static void LowerTransposedTimesRows(float* lower, float* rows, float* output, int t, int n, int rowStride, float factor, bool accumulate)
    {
        int n16 = n & ~15, tiled = t & ~3;
        for (int j0 = 0; j0 < tiled; j0 += 4)
        {
            // Outputs j0..j0+3 start their sums at rows j0..j0+3 and run to t − 1; weights are columns of lower (stride t).
            float* w0 = lower + j0, w1 = w0 + 1, w2 = w0 + 2, w3 = w0 + 3;
            float* o = output + (long)j0 * rowStride;
            int d = 0;
            for (; !Wide && d < n16; d += 16)
                Columns16Narrow(w0, w1, w2, w3, t, rows + d, rowStride, j0, t, o + d, rowStride, factor, accumulate, transposed: true);
            for (; d + 32 <= n16; d += 32)
                Columns32(w0, w1, w2, w3, t, rows + d, rowStride, j0, t, o + d, rowStride, factor, accumulate, transposed: true);
            if (d < n16)
                Columns16(w0, w1, w2, w3, t, rows + d, rowStride, j0, t, o + d, rowStride, factor, accumulate, transposed: true);
        }
        if (n16 < n)
            for (int j = 0; j < tiled; j++)
                CausalProducts.WeightedSum(lower + (long)j * t + j, t, rows + (long)j * rowStride + n16, rowStride, t - j,
                    output + (long)j * rowStride + n16, n - n16, factor, accumulate);
        for (int j = tiled; j < t; j++)
            CausalProducts.WeightedSum(lower + (long)j * t + j, t, rows + (long)j * rowStride, rowStride, t - j,
                output + (long)j * rowStride, n, factor, accumulate);
    }

    // Four sums at once over 32 columns (two vectors). Output k's weight for row r is w_k[r·weightStride].
    //   not transposed (LowerTimesRows, outputs i0..i0+3): every output takes rows [from, to), then output k also
    //     rows to .. to+k−1 — its sum runs over rows 0..i0+k;
    //   transposed (LowerTransposedTimesRows, outputs j0..j0+3 with from = j0): output k takes rows from+k .. to−1, so
    //     rows from, from+1, from+2 feed only the first 1, 2, 3 outputs.
    // Either way each output's products are added in increasing row order, one chain per element.
    static void Columns32(float* w0, float* w1, float* w2, float* w3, int weightStride, float* rows, int rowStride,
        int from, int to, float* output, int outputStride, float factor, bool accumulate, bool transposed = false)
    {
        Vector512<float> a0 = Vector512<float>.Zero, b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        int common = from;
        if (transposed)
        {
            for (int r = from; r < from + 3; r++)
            {
                long wr = (long)r * weightStride;
                float* row = rows + (long)r * rowStride;
                var lo = Vector512.Load(row);
                var hi = Vector512.Load(row + 16);
                a0 = Fma(w0[wr], lo, a0); b0 = Fma(w0[wr], hi, b0);
                if (r >= from + 1) { a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1); }
                if (r >= from + 2) { a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2); }
            }
            common = from + 3;
        }
        for (int r = common; r < to; r++)
        {
            long wr = (long)r * weightStride;
            float* row = rows + (long)r * rowStride;
            var lo = Vector512.Load(row);
            var hi = Vector512.Load(row + 16);
            a0 = Fma(w0[wr], lo, a0); b0 = Fma(w0[wr], hi, b0);
            a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1);
            a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2);
            a3 = Fma(w3[wr], lo, a3); b3 = Fma(w3[wr], hi, b3);
        }
        if (!transposed)
        {
            for (int r = to; r < to + 3; r++)
            {
                long wr = (long)r * weightStride;
                float* row = rows + (long)r * rowStride;
                var lo = Vector512.Load(row);
                var hi = Vector512.Load(row + 16);
                if (r < to + 1) { a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1); }
                if (r < to + 2) { a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2); }
                a3 = Fma(w3[wr], lo, a3); b3 = Fma(w3[wr], hi, b3);
            }
        }
        var scale = Vector512.Create(factor);
        Finish(a0, output, scale, accumulate); Finish(b0, output + 16, scale, accumulate);
        output += outputStride;
        Finish(a1, output, scale, accumulate); Finish(b1, output + 16, scale, accumulate);
        output += outputStride;
        Finish(a2, output, scale, accumulate); Finish(b2, output + 16, scale, accumulate);
        output += outputStride;
        Finish(a3, output, scale, accumulate); Finish(b3, output + 16, scale, accumulate);
    }

    // Columns32 for 16 columns (one vector).
    static void Columns16(float* w0, float* w1, float* w2, float* w3, int weightStride, float* rows, int rowStride,
        int from, int to, float* output, int outputStride, float factor, bool accumulate, bool transposed = false)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int common = from;
        if (transposed)
        {
            for (int r = from; r < from + 3; r++)
            {
                long wr = (long)r * weightStride;
                var x = Vector512.Load(rows + (long)r * rowStride);
                a0 = Fma(w0[wr], x, a0);
                if (r >= from + 1) a1 = Fma(w1[wr], x, a1);
                if (r >= from + 2) a2 = Fma(w2[wr], x, a2);
            }
            common = from + 3;
        }
        for (int r = common; r < to; r++)
        {
            long wr = (long)r * weightStride;
            var x = Vector512.Load(rows + (long)r * rowStride);
            a0 = Fma(w0[wr], x, a0);
            a1 = Fma(w1[wr], x, a1);
            a2 = Fma(w2[wr], x, a2);
            a3 = Fma(w3[wr], x, a3);
        }
        if (!transposed)
        {
            for (int r = to; r < to + 3; r++)
            {
                long wr = (long)r * weightStride;
                var x = Vector512.Load(rows + (long)r * rowStride);
                if (r < to + 1) a1 = Fma(w1[wr], x, a1);
                if (r < to + 2) a2 = Fma(w2[wr], x, a2);
                a3 = Fma(w3[wr], x, a3);
            }
        }
        var scale = Vector512.Create(factor);
        Finish(a0, output, scale, accumulate);
        Finish(a1, output + outputStride, scale, accumulate);
        Finish(a2, output + 2L * outputStride, scale, accumulate);
        Finish(a3, output + 3L * outputStride, scale, accumulate);
    }

    // Columns32's four sums over 16 columns in two 256-bit vectors, for AVX2 (8 accumulators of the 16 registers):
    // the same products, added in the same order, one chain per element.
    static void Columns16Narrow(float* w0, float* w1, float* w2, float* w3, int weightStride, float* rows, int rowStride,
        int from, int to, float* output, int outputStride, float factor, bool accumulate, bool transposed = false)
    {
        Vector256<float> a0 = Vector256<float>.Zero, b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        int common = from;
        if (transposed)
        {
            for (int r = from; r < from + 3; r++)
            {
                long wr = (long)r * weightStride;
                float* row = rows + (long)r * rowStride;
                var lo = Vector256.Load(row);
                var hi = Vector256.Load(row + 8);
                a0 = Fma(w0[wr], lo, a0); b0 = Fma(w0[wr], hi, b0);
                if (r >= from + 1) { a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1); }
                if (r >= from + 2) { a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2); }
            }
            common = from + 3;
        }
        for (int r = common; r < to; r++)
        {
            long wr = (long)r * weightStride;
            float* row = rows + (long)r * rowStride;
            var lo = Vector256.Load(row);
            var hi = Vector256.Load(row + 8);
            a0 = Fma(w0[wr], lo, a0); b0 = Fma(w0[wr], hi, b0);
            a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1);
            a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2);
            a3 = Fma(w3[wr], lo, a3); b3 = Fma(w3[wr], hi, b3);
        }
        if (!transposed)
        {
            for (int r = to; r < to + 3; r++)
            {
                long wr = (long)r * weightStride;
                float* row = rows + (long)r * rowStride;
                var lo = Vector256.Load(row);
                var hi = Vector256.Load(row + 8);
                if (r < to + 1) { a1 = Fma(w1[wr], lo, a1); b1 = Fma(w1[wr], hi, b1); }
                if (r < to + 2) { a2 = Fma(w2[wr], lo, a2); b2 = Fma(w2[wr], hi, b2); }
                a3 = Fma(w3[wr], lo, a3); b3 = Fma(w3[wr], hi, b3);
            }
        }
        // The generic loops' own ending: factor·sum, added to the output when accumulating.
        CausalProducts.Finish(a0, output, factor, accumulate); CausalProducts.Finish(b0, output + 8, factor, accumulate);
        output += outputStride;
        CausalProducts.Finish(a1, output, factor, accumulate); CausalProducts.Finish(b1, output + 8, factor, accumulate);
        output += outputStride;
        CausalProducts.Finish(a2, output, factor, accumulate); CausalProducts.Finish(b2, output + 8, factor, accumulate);
        output += outputStride;
        CausalProducts.Finish(a3, output, factor, accumulate); CausalProducts.Finish(b3, output + 8, factor, accumulate);
    }

    /// <summary>weight·x + addend in 256 bits: the generic loops' <see cref="CausalProducts.MultiplyAdd{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(float weight, Vector256<float> x, Vector256<float> addend) =>
        CausalProducts.MultiplyAdd(Vector256.Create(weight), x, addend);

    /// <summary>As the generic Finish: factor·sum, added to the output when accumulating.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Finish(Vector512<float> sum, float* output, Vector512<float> scale, bool accumulate)
    {
        var scaled = scale * sum;
        (accumulate ? Vector512.Load(output) + scaled : scaled).Store(output);
    }

    /// <summary>weight·x + addend, one rounding (the generic loops' Fma.MultiplyAdd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(float weight, Vector512<float> x, Vector512<float> addend) =>
        Avx512F.FusedMultiplyAdd(Vector512.Create(weight), x, addend);
}
