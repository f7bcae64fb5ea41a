using System.Numerics;

namespace Forge.Kernels;

/// <summary>Plain scalar versions of <see cref="Softmax"/> (same signatures); the tests compare against these.</summary>
public static class SoftmaxReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++) Row(x.Slice(r * cols, cols), y.Slice(r * cols, cols), cols);
    }

    public static void ForwardCausal<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < batch * t; r++) Row(x.Slice(r * t, t), y.Slice(r * t, t), r % t + 1);
    }

    /// <summary>Softmax of the first <paramref name="seen"/> entries; the rest of y is 0.</summary>
    static void Row<T>(ReadOnlySpan<T> x, Span<T> y, int seen) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = T.NegativeInfinity;
        for (int j = 0; j < seen; j++) max = T.Max(max, x[j]);
        T sum = T.Zero;
        for (int j = 0; j < seen; j++) sum += T.Exp(x[j] - max);
        for (int j = 0; j < y.Length; j++) y[j] = j < seen ? T.Exp(x[j] - max) / sum : T.Zero;
    }

    public static void Backward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            // y_i = e^{x_i}/Σe^{x_j}  ⇒  ∂L/∂x_i = Σ_j dy_j·y_j(δ_ij − y_i) = y_i(dy_i − Σ_j dy_j y_j).
            T dot = T.Zero;
            for (int j = 0; j < cols; j++) dot += dy[r * cols + j] * y[r * cols + j];
            for (int j = 0; j < cols; j++) dx[r * cols + j] += y[r * cols + j] * (dy[r * cols + j] - dot);
        }
    }

    public static void BackwardCausal<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int batch, int t)
        where T : unmanaged, IFloatingPointIeee754<T> => Backward(y, dy, dx, batch * t, t);
}
