using System.Numerics;

namespace Forge.Kernels;

// Layer normalisation as plain loops: the version to read first (LayerNorm.cs is the fast one; the tests
// hold the two together). docs/attention-backward.md works an example by hand, and
// `Forge.Experiments explain layernorm` prints it.
//
// Shapes: x, y and their gradients are [position, d_model] (n rows of d); w, b [d_model]; mean, rstd
// [position]. Every row is normalised on its own; i and j index d_model.
//
// FORWARD, per row:
//   1. mean = Σ_i x[i] / d,   var = Σ_i (x[i] − mean)² / d,   rstd = 1/√(var + eps)
//      x̂[i] = (x[i] − mean) · rstd                                          (Normalize)
//   2. y[i]  = x̂[i] · w[i] + b[i]                                            (ScaleAndShift)
//
// BACKWARD, given dy = ∂L/∂y, the two lines in reverse:
//   2. y = x̂·w + b, elementwise:  dx̂[i] = dy[i] · w[i],  dw[i] += dy[i] · x̂[i],  db[i] += dy[i]
//      (w and b are shared by every row, so their gradients sum over the rows).
//   1. x̂ = (x − mean)·rstd. Every x[i] also moves the row's mean and rstd, so each x̂[j] depends on it:
//        ∂x̂[j]/∂x[i] = rstd · (δ_ij − 1/d − x̂[i]·x̂[j]/d)
//      δ_ij is the direct path, −1/d the path through the mean, −x̂[i]·x̂[j]/d the path through rstd.
//      Summing over j:
//        dx[i] += rstd · (dx̂[i] − mean(dx̂) − x̂[i] · mean(dx̂ ⊙ x̂))

/// <summary>
/// Plain scalar versions of <see cref="LayerNorm"/> (same signatures and conventions, as in llm.c): the
/// teaching text (derivation at the top of this file) and what the tests compare the fast kernel with.
/// Each chain-rule step is a public method working on one row.
/// </summary>
public static class LayerNormReference
{
    /// <summary>Same contract as <see cref="LayerNorm.Forward{T}"/>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y,
        Span<T> mean, Span<T> rstd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < n; r++)
        {
            var (rowMean, rowRstd) = RowStatistics(x.Slice(r * d, d), eps);
            Normalize(x.Slice(r * d, d), rowMean, rowRstd, y.Slice(r * d, d));   // 1. y holds x̂ for now
            ScaleAndShift(y.Slice(r * d, d), w, b, y.Slice(r * d, d));            // 2. y = x̂·w + b, in place
            if (!mean.IsEmpty) mean[r] = rowMean;
            if (!rstd.IsEmpty) rstd[r] = rowRstd;
        }
    }

    /// <summary>Same contract as <see cref="LayerNorm.Backward{T}"/>: dx, dw, db accumulate.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, int n, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xhat = new T[d];     // [d_model], one row at a time
        var dXhat = new T[d];    // [d_model]
        for (int r = 0; r < n; r++)
        {
            Normalize(x.Slice(r * d, d), mean[r], rstd[r], xhat);                   // x̂ again, from the saved statistics
            ScaleAndShiftBackward(dy.Slice(r * d, d), xhat, w, dXhat, dw, db);     // 2. y = x̂·w + b
            NormalizeBackward(dXhat, xhat, rstd[r], dx.Slice(r * d, d));           // 1. x̂ = (x − mean)·rstd
        }
    }

    /// <summary>The mean of one row and rstd = 1/√(var + eps), with the biased variance (divide by d, like PyTorch).</summary>
    public static (T Mean, T Rstd) RowStatistics<T>(ReadOnlySpan<T> x, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked(x.Length);
        T mean = T.Zero;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= count;
        T variance = T.Zero;
        for (int i = 0; i < x.Length; i++) variance += (x[i] - mean) * (x[i] - mean);
        variance /= count;
        return (mean, T.One / T.Sqrt(variance + eps));
    }

    /// <summary>Step 1 of one row: x̂ [d_model] = (x − mean)·rstd. x̂ may be x.</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, T mean, T rstd, Span<T> xhat) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // x̂[i] = (x[i] − mean) · rstd
        for (int i = 0; i < x.Length; i++) xhat[i] = (x[i] - mean) * rstd;
    }

    /// <summary>Step 2 of one row: y [d_model] = x̂·w + b; an empty w means 1, an empty b means 0. y may be x̂.</summary>
    public static void ScaleAndShift<T>(ReadOnlySpan<T> xhat, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < xhat.Length; i++)
        {
            // y[i] = x̂[i] · w[i] + b[i]
            T scaled = w.IsEmpty ? xhat[i] : xhat[i] * w[i];
            y[i] = b.IsEmpty ? scaled : scaled + b[i];
        }
    }

    /// <summary>
    /// Backward of <see cref="ScaleAndShift{T}"/> for one row: dXhat [d_model] is overwritten;
    /// dw, db [d_model] accumulate (each skipped when empty).
    /// </summary>
    public static void ScaleAndShiftBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xhat, ReadOnlySpan<T> w,
        Span<T> dXhat, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < dy.Length; i++)
        {
            // forward: y[i] = x̂[i] · w[i] + b[i]
            if (!db.IsEmpty) db[i] += dy[i];                 // ∂y[i]/∂b[i] = 1
            if (!dw.IsEmpty) dw[i] += dy[i] * xhat[i];       // ∂y[i]/∂w[i] = x̂[i]
            dXhat[i] = w.IsEmpty ? dy[i] : dy[i] * w[i];     // ∂y[i]/∂x̂[i] = w[i]
        }
    }

    /// <summary>
    /// Backward of <see cref="Normalize{T}"/> for one row: dx [d_model] += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)).
    /// </summary>
    public static void NormalizeBackward<T>(ReadOnlySpan<T> dXhat, ReadOnlySpan<T> xhat, T rstd, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // forward: x̂[i] = (x[i] − mean) · rstd, where mean and rstd depend on the whole row
        //   ∂x̂[j]/∂x[i] = rstd · (δ_ij − 1/d − x̂[i]·x̂[j]/d)   (direct, through the mean, through rstd)
        var (meanDXhat, meanDXhatXhat) = NormalizeBackwardMeans(dXhat, xhat);
        for (int i = 0; i < dXhat.Length; i++)
            dx[i] += (dXhat[i] - meanDXhat - xhat[i] * meanDXhatXhat) * rstd;
    }

    /// <summary>
    /// The two row means <see cref="NormalizeBackward{T}"/> needs: mean(dx̂), the part every x̂ shares through
    /// the mean, and mean(dx̂ ⊙ x̂), the part that flows through rstd.
    /// </summary>
    public static (T MeanDXhat, T MeanDXhatTimesXhat) NormalizeBackwardMeans<T>(ReadOnlySpan<T> dXhat, ReadOnlySpan<T> xhat)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked(dXhat.Length);
        T sum = T.Zero, sumTimesXhat = T.Zero;
        for (int i = 0; i < dXhat.Length; i++)
        {
            sum += dXhat[i];
            sumTimesXhat += dXhat[i] * xhat[i];
        }
        return (sum / count, sumTimesXhat / count);
    }
}
