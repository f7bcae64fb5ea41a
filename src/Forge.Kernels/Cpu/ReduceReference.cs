using System.Numerics;

namespace Forge.Kernels;

/// <summary>Plain scalar versions of <see cref="Reduce"/> (same signatures); the tests compare against these.</summary>
public static class ReduceReference
{
    public static void Sum<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T sum = T.Zero;
                for (int k = 0; k < axis; k++) sum += x[(o * axis + k) * inner + i];
                y[o * inner + i] = sum;
            }
    }

    public static void Mean<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Sum(x, outer, axis, inner, y);
        for (int i = 0; i < outer * inner; i++) y[i] /= T.CreateChecked(axis);
    }

    public static void Max<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int k = 1; k < axis; k++)
                {
                    T value = x[(o * axis + k) * inner + i], bestValue = x[(o * axis + best) * inner + i];
                    // IEEE 754 maximum: NaN wins, +0 beats −0; otherwise strictly greater (first of ties).
                    bool replaces = T.IsNaN(bestValue) ? false
                        : T.IsNaN(value) ? true
                        : value > bestValue || (value == bestValue && T.IsNegative(bestValue) && T.IsPositive(value));
                    if (replaces) best = k;
                }
                y[o * inner + i] = x[(o * axis + best) * inner + i];
                argmax[o * inner + i] = best;
            }
    }

    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        foreach (T value in x) sum += value;
        return sum;
    }

    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (T value in x) sum += double.CreateChecked(value) * double.CreateChecked(value);
        return sum;
    }
}
