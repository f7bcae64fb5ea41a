using System.Numerics;

namespace Forge.Kernels;

/// <summary>Plain scalar versions of <see cref="Gelu"/> (same signatures); the tests compare against these.</summary>
public static class GeluReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c = T.CreateChecked(Gelu.Coefficient), k = T.CreateChecked(Gelu.SqrtTwoOverPi), half = T.CreateChecked(0.5);
        for (int i = 0; i < x.Length; i++)
        {
            T u = k * (x[i] + c * x[i] * x[i] * x[i]);
            y[i] = half * x[i] * (T.One + T.Tanh(u));
        }
    }

    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c = T.CreateChecked(Gelu.Coefficient), k = T.CreateChecked(Gelu.SqrtTwoOverPi), half = T.CreateChecked(0.5);
        T c3 = T.CreateChecked(3 * Gelu.Coefficient);
        for (int i = 0; i < x.Length; i++)
        {
            T u = k * (x[i] + c * x[i] * x[i] * x[i]);
            T t = T.Tanh(u);
            // d/dx [½x(1 + tanh u)] = ½(1 + tanh u) + ½x·sech²u·du/dx, sech² = 1 − tanh², du/dx = k(1 + 3c·x²).
            T local = half * (T.One + t) + half * x[i] * (T.One - t * t) * k * (T.One + c3 * x[i] * x[i]);
            dx[i] += dy[i] * local;
        }
    }
}
