using System.Numerics;

namespace Forge.Kernels;

/// <summary>Plain scalar versions of <see cref="LayerNorm"/> (same signatures and conventions, as in llm.c); the tests compare against these.</summary>
public static class LayerNormReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y,
        Span<T> mean, Span<T> rstd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked(d);
        for (int r = 0; r < n; r++)
        {
            var row = x.Slice(r * d, d);
            T m = T.Zero;
            for (int i = 0; i < d; i++) m += row[i];
            m /= count;
            T variance = T.Zero;
            for (int i = 0; i < d; i++) variance += (row[i] - m) * (row[i] - m);
            variance /= count;
            T s = T.One / T.Sqrt(variance + eps);
            for (int i = 0; i < d; i++)
            {
                T normalized = (row[i] - m) * s;
                T scaled = w.IsEmpty ? normalized : normalized * w[i];
                y[r * d + i] = b.IsEmpty ? scaled : scaled + b[i];
            }
            if (!mean.IsEmpty) mean[r] = m;
            if (!rstd.IsEmpty) rstd[r] = s;
        }
    }

    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked(d);
        for (int r = 0; r < n; r++)
        {
            // Two reductions over the row: mean(dnorm) and mean(dnorm·x̂).
            T dnormMean = T.Zero, dnormXhatMean = T.Zero;
            for (int i = 0; i < d; i++)
            {
                T xhat = (x[r * d + i] - mean[r]) * rstd[r];
                T dnorm = w.IsEmpty ? dy[r * d + i] : dy[r * d + i] * w[i];
                dnormMean += dnorm;
                dnormXhatMean += dnorm * xhat;
            }
            dnormMean /= count;
            dnormXhatMean /= count;
            for (int i = 0; i < d; i++)
            {
                T xhat = (x[r * d + i] - mean[r]) * rstd[r];
                T dnorm = w.IsEmpty ? dy[r * d + i] : dy[r * d + i] * w[i];
                if (!db.IsEmpty) db[i] += dy[r * d + i];                 // y = ... + b
                if (!dw.IsEmpty) dw[i] += dy[r * d + i] * xhat;          // y = x̂·w + ...
                // x̂ depends on x directly and through mean and rstd; the three terms.
                dx[r * d + i] += (dnorm - dnormMean - xhat * dnormXhatMean) * rstd[r];
            }
        }
    }
}
