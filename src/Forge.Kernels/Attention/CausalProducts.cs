using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// The three small matrix products that causal attention is made of, for one (batch, head) pair,
/// each touching only the causal (lower) triangle of a (t, t) matrix. <see cref="Attention"/> uses
/// them for both passes:
/// <list type="bullet">
/// <item><see cref="RowDots{T}"/>: (t, t) = a · bᵀ — scores = q·kᵀ, dPattern = dz·vᵀ.</item>
/// <item><see cref="LowerTimesRows{T}"/>: (t, n) = lower · rows — z = pattern·v, dq = dScores·k.</item>
/// <item><see cref="LowerTransposedTimesRows{T}"/>: (t, n) (+)= lowerᵀ · rows — dv = patternᵀ·dz, dk = dScoresᵀ·q.</item>
/// </list>
/// "Rows" are the t positions of one head inside a (batch, t, heads, dHead) buffer: n = dHead values
/// each, <c>rowStride</c> = heads·dHead apart. The (t, t) matrices are contiguous.
/// <para>
/// Vectorised over the dHead axis with <see cref="Vector256{T}"/>; a scalar loop takes the tail
/// (dHead not a multiple of the vector width). The order of float operations depends only on the
/// sizes, never on threads. For float32 on CPUs with AVX-512 the two weighted-sum products hand over to their
/// register-tiled twins in <see cref="CausalProductsTiled"/>, which perform the same operations in the same order
/// (bit-identical); the <c>…Generic</c> methods here are the loops that define that order.
/// </para>
/// </summary>
internal static unsafe class CausalProducts
{
    /// <summary>
    /// output[i, j] = factor · (a_i · b_j) for j ≤ i and <paramref name="maskedValue"/> for j > i.
    /// a, b: t rows of n values, rowStride apart. output is (t, t).
    /// </summary>
    public static void RowDots<T>(T* a, T* b, T* output, int t, int n, int rowStride, T factor, T maskedValue)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        RowDots(a, b, output, t, n, rowStride, factor, maskedValue, sumFourAtOnce: true);

    /// <summary><see cref="RowDots{T}"/> with every dot reduced on its own (the reference order; the same bits).</summary>
    public static void RowDotsGeneric<T>(T* a, T* b, T* output, int t, int n, int rowStride, T factor, T maskedValue)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        RowDots(a, b, output, t, n, rowStride, factor, maskedValue, sumFourAtOnce: false);

    static void RowDots<T>(T* a, T* b, T* output, int t, int n, int rowStride, T factor, T maskedValue, bool sumFourAtOnce)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int tiledRows = 0;
        if (sumFourAtOnce && typeof(T) == typeof(float) && Avx512F.VL.IsSupported && n % Vector256<float>.Count == 0 && n > 0)
        {
            // Four queries × four keys per pass below the diagonal blocks (16 accumulators in the 32 registers of
            // AVX-512): each load feeds four dots instead of one. Every dot is still Dot4's own chain, so its bits.
            tiledRows = t / 4 * 4;
            for (int i0 = 0; i0 < tiledRows; i0 += 4)
            {
                for (int j0 = 0; j0 < i0; j0 += 4)
                    Dot4x4((float*)a + (long)i0 * rowStride, (float*)b + (long)j0 * rowStride, rowStride, n, AsFloat(factor),
                        (float*)output + (long)i0 * t + j0, t);
                // The keys from i0 on, as the row loop below does them.
                for (int i = i0; i < i0 + 4; i++) RowTail(a, b, output, t, n, rowStride, factor, maskedValue, i, i0, sumFourAtOnce);
            }
        }
        for (int i = tiledRows; i < t; i++) RowTail(a, b, output, t, n, rowStride, factor, maskedValue, i, 0, sumFourAtOnce);
    }

    /// <summary>Row i of <see cref="RowDots{T}"/> from key <paramref name="firstKey"/> (a multiple of 4) on, masked part included.</summary>
    static void RowTail<T>(T* a, T* b, T* output, int t, int n, int rowStride, T factor, T maskedValue, int i, int firstKey, bool sumFourAtOnce)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* outputRow = output + (long)i * t;
        T* aRow = a + (long)i * rowStride;
        int j = firstKey;
        // Four keys at a time share each load of a_i: loads, not multiplies, are the bottleneck.
        for (; j + 4 <= i + 1; j += 4) Dot4(aRow, b + (long)j * rowStride, rowStride, n, factor, outputRow + j, sumFourAtOnce);
        for (; j <= i; j++) outputRow[j] = factor * Dot(aRow, b + (long)j * rowStride, n);
        new Span<T>(outputRow + i + 1, t - i - 1).Fill(maskedValue);
    }

    /// <summary>
    /// output_i = factor · Σ_{j ≤ i} lower[i, j] · rows_j, or output_i += … when <paramref name="accumulate"/>.
    /// lower is (t, t) (only j ≤ i is read); rows and output are t rows of n values, rowStride apart.
    /// </summary>
    public static void LowerTimesRows<T>(T* lower, T* rows, T* output, int t, int n, int rowStride, T factor, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && CausalProductsTiled.IsSupported)
            CausalProductsTiled.LowerTimesRows((float*)lower, (float*)rows, (float*)output, t, n, rowStride, AsFloat(factor), accumulate);
        else
            LowerTimesRowsGeneric(lower, rows, output, t, n, rowStride, factor, accumulate);
    }

    /// <summary><see cref="LowerTimesRows{T}"/> one output row at a time (the reference order).</summary>
    public static void LowerTimesRowsGeneric<T>(T* lower, T* rows, T* output, int t, int n, int rowStride, T factor, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < t; i++)
        {
            // Row i of lower, entries 0..i, weights rows 0..i.
            WeightedSum(lower + (long)i * t, 1, rows, rowStride, i + 1, output + (long)i * rowStride, n, factor, accumulate);
        }
    }

    /// <summary>
    /// output_j = factor · Σ_{i ≥ j} lower[i, j] · rows_i, or output_j += … when <paramref name="accumulate"/>.
    /// lower is (t, t) (only i ≥ j is read); rows and output are t rows of n values, rowStride apart.
    /// </summary>
    public static void LowerTransposedTimesRows<T>(T* lower, T* rows, T* output, int t, int n, int rowStride, T factor, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && CausalProductsTiled.IsSupported)
            CausalProductsTiled.LowerTransposedTimesRows((float*)lower, (float*)rows, (float*)output, t, n, rowStride, AsFloat(factor), accumulate);
        else
            LowerTransposedTimesRowsGeneric(lower, rows, output, t, n, rowStride, factor, accumulate);
    }

    /// <summary><see cref="LowerTransposedTimesRows{T}"/> one output row at a time (the reference order).</summary>
    public static void LowerTransposedTimesRowsGeneric<T>(T* lower, T* rows, T* output, int t, int n, int rowStride, T factor, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < t; j++)
        {
            // Column j of lower, entries j..t-1 (t apart), weights rows j..t-1.
            WeightedSum(lower + (long)j * t + j, t, rows + (long)j * rowStride, rowStride, t - j,
                output + (long)j * rowStride, n, factor, accumulate);
        }
    }

    /// <summary>output[r] = factor · (a · b_r) for the four rows b_0..b_3 (rowStride apart) of n values.</summary>
    static void Dot4<T>(T* a, T* b, int rowStride, int n, T factor, T* output, bool sumFourAtOnce) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* b0 = b, b1 = b + rowStride, b2 = b + 2L * rowStride, b3 = b + 3L * rowStride;
        T sum0 = T.Zero, sum1 = T.Zero, sum2 = T.Zero, sum3 = T.Zero;
        int d = 0;
        if (UseVectors<T>() && n >= Vector256<T>.Count)
        {
            Vector256<T> acc0 = Vector256<T>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (; d + Vector256<T>.Count <= n; d += Vector256<T>.Count)
            {
                var x = Vector256.Load(a + d);
                acc0 = MultiplyAdd(x, Vector256.Load(b0 + d), acc0);
                acc1 = MultiplyAdd(x, Vector256.Load(b1 + d), acc1);
                acc2 = MultiplyAdd(x, Vector256.Load(b2 + d), acc2);
                acc3 = MultiplyAdd(x, Vector256.Load(b3 + d), acc3);
            }
            if (sumFourAtOnce && d == n && typeof(T) == typeof(float) && Avx.IsSupported)
            {
                // The four horizontal sums at once, in Vector256.Sum's own order (see SumFour): the same bits.
                (Vector128.Create(AsFloat(factor)) * SumFour(acc0.AsSingle(), acc1.AsSingle(), acc2.AsSingle(), acc3.AsSingle()))
                    .Store((float*)output);
                return;
            }
            sum0 = Vector256.Sum(acc0); sum1 = Vector256.Sum(acc1); sum2 = Vector256.Sum(acc2); sum3 = Vector256.Sum(acc3);
        }
        for (; d < n; d++)
        {
            sum0 += a[d] * b0[d]; sum1 += a[d] * b1[d]; sum2 += a[d] * b2[d]; sum3 += a[d] * b3[d];
        }
        output[0] = factor * sum0; output[1] = factor * sum1; output[2] = factor * sum2; output[3] = factor * sum3;
    }

    /// <summary>
    /// [Vector256.Sum(a), Sum(b), Sum(c), Sum(d)] with three horizontal adds and one add instead of four separate
    /// reductions. Vector256.Sum of float is Sum(lower half) + Sum(upper half), each half ((x0 + x1) + (x2 + x3)):
    /// the pairwise adds below form exactly those sums (CausalProductsTiledTests checks RowDots bit for bit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> SumFour(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        // per 128-bit half: [a0+a1, a2+a3, b0+b1, b2+b3], then [(a0+a1)+(a2+a3), (b0+b1)+(b2+b3), (c…), (d…)]
        var quads = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
        return quads.GetLower() + quads.GetUpper();
    }

    /// <summary>
    /// output[r·t + c] = factor · (a_r · b_c) for queries a_0..a_3 and keys b_0..b_3 (rowStride apart), n a multiple
    /// of 8: sixteen of <see cref="Dot4{T}"/>'s chains (one accumulator per dot, fused multiply-adds in d order,
    /// then Vector256.Sum's pairs), four loads of each side per step instead of five per four dots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot4x4(float* a, float* b, int rowStride, int n, float factor, float* output, int t)
    {
        float* a0 = a, a1 = a + rowStride, a2 = a + 2L * rowStride, a3 = a + 3L * rowStride;
        float* b0 = b, b1 = b + rowStride, b2 = b + 2L * rowStride, b3 = b + 3L * rowStride;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default,
            c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int d = 0; d < n; d += Vector256<float>.Count)
        {
            Vector256<float> k0 = Vector256.Load(b0 + d), k1 = Vector256.Load(b1 + d), k2 = Vector256.Load(b2 + d), k3 = Vector256.Load(b3 + d);
            var q = Vector256.Load(a0 + d);
            c00 = Fma.MultiplyAdd(q, k0, c00); c01 = Fma.MultiplyAdd(q, k1, c01); c02 = Fma.MultiplyAdd(q, k2, c02); c03 = Fma.MultiplyAdd(q, k3, c03);
            q = Vector256.Load(a1 + d);
            c10 = Fma.MultiplyAdd(q, k0, c10); c11 = Fma.MultiplyAdd(q, k1, c11); c12 = Fma.MultiplyAdd(q, k2, c12); c13 = Fma.MultiplyAdd(q, k3, c13);
            q = Vector256.Load(a2 + d);
            c20 = Fma.MultiplyAdd(q, k0, c20); c21 = Fma.MultiplyAdd(q, k1, c21); c22 = Fma.MultiplyAdd(q, k2, c22); c23 = Fma.MultiplyAdd(q, k3, c23);
            q = Vector256.Load(a3 + d);
            c30 = Fma.MultiplyAdd(q, k0, c30); c31 = Fma.MultiplyAdd(q, k1, c31); c32 = Fma.MultiplyAdd(q, k2, c32); c33 = Fma.MultiplyAdd(q, k3, c33);
        }
        var f = Vector128.Create(factor);
        (f * SumFour(c00, c01, c02, c03)).Store(output);
        (f * SumFour(c10, c11, c12, c13)).Store(output + t);
        (f * SumFour(c20, c21, c22, c23)).Store(output + 2L * t);
        (f * SumFour(c30, c31, c32, c33)).Store(output + 3L * t);
    }

    /// <summary>Σ_d a[d]·b[d] over n values.</summary>
    public static T Dot<T>(T* a, T* b, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = 0;
        T sum = T.Zero;
        if (UseVectors<T>() && n >= Vector256<T>.Count)
        {
            int width = Vector256<T>.Count;
            // Two accumulators so consecutive multiply-adds do not wait on each other.
            Vector256<T> sum0 = Vector256<T>.Zero, sum1 = Vector256<T>.Zero;
            for (; d + 2 * width <= n; d += 2 * width)
            {
                sum0 = MultiplyAdd(Vector256.Load(a + d), Vector256.Load(b + d), sum0);
                sum1 = MultiplyAdd(Vector256.Load(a + d + width), Vector256.Load(b + d + width), sum1);
            }
            if (d + width <= n)
            {
                sum0 = MultiplyAdd(Vector256.Load(a + d), Vector256.Load(b + d), sum0);
                d += width;
            }
            sum = Vector256.Sum(sum0 + sum1);
        }
        for (; d < n; d++) sum += a[d] * b[d];
        return sum;
    }

    /// <summary>
    /// output[0..n) = factor · Σ_r weights[r·weightStride] · rows[r·rowStride + 0..n), added to output
    /// when <paramref name="accumulate"/>. The sum over r runs in registers, a strip of the n axis at a time.
    /// </summary>
    public static void WeightedSum<T>(T* weights, int weightStride, T* rows, int rowStride, int rowCount,
        T* output, int n, T factor, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = 0;
        if (UseVectors<T>())
        {
            int width = Vector256<T>.Count;
            // Four vectors at a time: four independent multiply-add chains hide the FMA latency;
            // then at most one strip of two and one of one.
            for (; d + 4 * width <= n; d += 4 * width)
            {
                Vector256<T> sum0 = Vector256<T>.Zero, sum1 = sum0, sum2 = sum0, sum3 = sum0;
                for (int r = 0; r < rowCount; r++)
                {
                    var weight = Vector256.Create(weights[(long)r * weightStride]);
                    T* row = rows + (long)r * rowStride + d;
                    sum0 = MultiplyAdd(weight, Vector256.Load(row), sum0);
                    sum1 = MultiplyAdd(weight, Vector256.Load(row + width), sum1);
                    sum2 = MultiplyAdd(weight, Vector256.Load(row + 2 * width), sum2);
                    sum3 = MultiplyAdd(weight, Vector256.Load(row + 3 * width), sum3);
                }
                Finish(sum0, output + d, factor, accumulate);
                Finish(sum1, output + d + width, factor, accumulate);
                Finish(sum2, output + d + 2 * width, factor, accumulate);
                Finish(sum3, output + d + 3 * width, factor, accumulate);
            }
            if (d + 2 * width <= n)
            {
                Vector256<T> sum0 = Vector256<T>.Zero, sum1 = sum0;
                for (int r = 0; r < rowCount; r++)
                {
                    var weight = Vector256.Create(weights[(long)r * weightStride]);
                    T* row = rows + (long)r * rowStride + d;
                    sum0 = MultiplyAdd(weight, Vector256.Load(row), sum0);
                    sum1 = MultiplyAdd(weight, Vector256.Load(row + width), sum1);
                }
                Finish(sum0, output + d, factor, accumulate);
                Finish(sum1, output + d + width, factor, accumulate);
                d += 2 * width;
            }
            if (d + width <= n)
            {
                Vector256<T> sum = Vector256<T>.Zero;
                for (int r = 0; r < rowCount; r++)
                    sum = MultiplyAdd(Vector256.Create(weights[(long)r * weightStride]), Vector256.Load(rows + (long)r * rowStride + d), sum);
                Finish(sum, output + d, factor, accumulate);
                d += width;
            }
        }
        for (; d < n; d++)
        {
            T sum = T.Zero;
            for (int r = 0; r < rowCount; r++) sum += weights[(long)r * weightStride] * rows[(long)r * rowStride + d];
            output[d] = accumulate ? output[d] + factor * sum : factor * sum;
        }
    }

    /// <summary>output (+)= factor·sum: how every weighted sum ends (also <see cref="CausalProductsTiled"/>'s 256-bit one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish<T>(Vector256<T> sum, T* output, T factor, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scaled = Vector256.Create(factor) * sum;
        (accumulate ? Vector256.Load(output) + scaled : scaled).Store(output);
    }

    /// <summary>a·b + addend, fused into one instruction where the CPU has FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> MultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> addend) where T : unmanaged
    {
        if (Fma.IsSupported && typeof(T) == typeof(float))
            return Fma.MultiplyAdd(a.As<T, float>(), b.As<T, float>(), addend.As<T, float>()).As<float, T>();
        if (Fma.IsSupported && typeof(T) == typeof(double))
            return Fma.MultiplyAdd(a.As<T, double>(), b.As<T, double>(), addend.As<T, double>()).As<double, T>();
        return a * b + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float AsFloat<T>(T value) where T : unmanaged => Unsafe.As<T, float>(ref value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool UseVectors<T>() => Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;
}
