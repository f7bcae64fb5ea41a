using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class GeluTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    [Test]
    public void ForwardBackward_MatchReference([Values(1, 7, 33, 127, 255, 70_001)] int n)
    {
        var x = Uniform<T>(n, seed: n, low: -6, high: 6);
        var (expected, actual) = (new T[n], new T[n]);
        GeluReference.Forward(x, expected);
        Gelu.Forward(x, actual);
        KernelAssert.Close<T>(expected, actual, Tol, "y");

        var dy = Uniform<T>(n, seed: 1);
        var expectedDx = Uniform<T>(n, seed: 2);
        var actualDx = (T[])expectedDx.Clone();
        GeluReference.Backward(x, dy, expectedDx);
        Gelu.Backward(x, dy, actualDx);
        KernelAssert.Close<T>(expectedDx, actualDx, Tol, "dx");

        Gelu.Forward(x, x); // in place
        KernelAssert.Close<T>(expected, x, Tol, "y in place");
    }

    /// <summary>Keeping tanh(u) from forward to backward (what a training pass does on the CPU) changes no bit of y or dx.</summary>
    [Test]
    public void KeptTanh_GivesTheSameBits([Values(1, 7, 33, 255, 257, 8_193, 70_001)] int n, [Values] bool accumulate)
    {
        var x = Uniform<T>(n, seed: n + 3, low: -6, high: 6);
        var (plainY, keptY, tanh) = (new T[n], new T[n], new T[n]);
        Gelu.Forward<T>(x, plainY);
        Gelu.Forward<T>(x, keptY, tanh);
        KernelAssert.Equal<T>(plainY, keptY, "y");

        var dy = Uniform<T>(n, seed: 4);
        var plainDx = Uniform<T>(n, seed: 5);
        var keptDx = (T[])plainDx.Clone();
        if (!accumulate) Array.Fill(keptDx, T.NaN);   // overwritten, never read
        Gelu.Backward<T>(x, dy, plainDx, accumulate);
        Gelu.Backward<T>(x, tanh, dy, keptDx, accumulate);
        if (!accumulate)
        {
            var fresh = new T[n];
            Gelu.Backward<T>(x, dy, fresh, accumulate: false);
            plainDx = fresh;
        }
        KernelAssert.Equal<T>(plainDx, keptDx, $"dx (accumulate {accumulate})");
        Assert.Throws<ArgumentException>(() => Gelu.Backward<T>(x, new T[Math.Max(0, n - 1)], dy, keptDx));
    }

    [Test]
    public void Forward_KnownValues()
    {
        // gelu_new(1) = 0.5·(1 + tanh(√(2/π)·1.044715)), gelu_new(−3) ≈ −0.0036373920817, gelu_new(0) = 0.
        T[] x = [T.One, T.CreateChecked(-3), T.Zero];
        var y = new T[3];
        Gelu.Forward(x, y);
        KernelAssert.Close<T>([T.CreateChecked(0.8411919906082768), T.CreateChecked(-0.0036373920817729), T.Zero], y, 1e-6, "y");
    }

    [Test]
    public void Backward_MatchesFiniteDifference()
    {
        var x = Uniform<double>(33, seed: 3, low: -5, high: 5);
        var r = Uniform<double>(33, seed: 4);
        var numerical = FiniteDifference.Gradient(xx =>
        {
            var y = new double[33];
            Gelu.Forward(xx, y);
            return FiniteDifference.Dot(y, r);
        }, x);
        var dx = new double[33];
        Gelu.Backward(x, r, dx);
        FiniteDifference.AssertMatches(numerical, dx, "dx");
    }
}
