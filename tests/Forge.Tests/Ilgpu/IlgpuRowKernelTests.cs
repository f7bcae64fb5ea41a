using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

/// <summary>Softmax and layer norm (one group per row) against the CPU references.</summary>
[IlgpuParityFixtures]
public class IlgpuRowKernelTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void SoftmaxForward_MatchesReference([Values(1, 7, 33)] int rows, [Values(1, 7, 33)] int cols)
    {
        var x = Uniform<T>(rows * cols, seed: rows * 100 + cols, low: -5, high: 5);
        var expected = new T[x.Length];
        SoftmaxReference.Forward<T>(x, expected, rows, cols);
        var xView = Upload(x);
        var y = Upload(new T[x.Length]);
        IlgpuSoftmax.Forward(Backend, xView, y, rows, cols);
        KernelAssert.Close<T>(expected, Download(y), Tol, "y");
        IlgpuSoftmax.Forward(Backend, xView, xView, rows, cols);   // in place
        KernelAssert.Close<T>(expected, Download(xView), Tol, "y in place");
    }

    [Test]
    public void SoftmaxForward_HugeLogits_StaysFinite()
    {
        T big = T.CreateChecked(1000);
        var y = Upload(new T[4]);
        IlgpuSoftmax.Forward(Backend, Upload(new[] { big, -big, T.Zero, big }), y, 1, 4);
        KernelAssert.Close<T>([T.CreateChecked(0.5), T.Zero, T.Zero, T.CreateChecked(0.5)], Download(y), Tol, "y");
    }

    [Test]
    public void SoftmaxCausal_ForwardAndBackward_MatchReference([Values(1, 7, 33)] int t, [Values(1, 2)] int batch)
    {
        var x = Uniform<T>(batch * t * t, seed: t, low: -5, high: 5);
        var dy = Uniform<T>(x.Length, seed: t + 1);
        var dx = Uniform<T>(x.Length, seed: t + 2);
        var expectedY = new T[x.Length];
        var expectedDx = (T[])dx.Clone();
        SoftmaxReference.ForwardCausal<T>(x, expectedY, batch, t);
        SoftmaxReference.BackwardCausal<T>(expectedY, dy, expectedDx, batch, t);

        var y = Upload(Uniform<T>(x.Length, seed: 99));   // garbage where the mask must write zeros
        var dxView = Upload(dx);
        IlgpuSoftmax.ForwardCausal(Backend, Upload(x), y, batch, t);
        IlgpuSoftmax.BackwardCausal(Backend, y, Upload(dy), dxView, batch, t);
        KernelAssert.Close<T>(expectedY, Download(y), Tol, "y");
        KernelAssert.Close<T>(expectedDx, Download(dxView), Tol, "dx");
    }

    [Test]
    public void SoftmaxBackward_AccumulatesLikeReference([Values(1, 7, 33)] int rows, [Values(1, 33)] int cols)
    {
        var y = Uniform<T>(rows * cols, seed: 1, low: 0, high: 1);
        var dy = Uniform<T>(rows * cols, seed: 2);
        var dx = Uniform<T>(rows * cols, seed: 3);
        var expected = (T[])dx.Clone();
        SoftmaxReference.Backward<T>(y, dy, expected, rows, cols);
        var dxView = Upload(dx);
        IlgpuSoftmax.Backward(Backend, Upload(y), Upload(dy), dxView, rows, cols);
        KernelAssert.Close<T>(expected, Download(dxView), Tol, "dx");
    }

    [Test]
    public void LayerNorm_ForwardAndBackward_MatchReference([Values(1, 7, 33)] int n, [Values(1, 7, 33)] int d,
        [Values(true, false)] bool affine) => CheckLayerNorm(n, d, affine);

    /// <summary>Many rows, few columns: dw and db sum row ranges in parallel, then add the ranges in order.</summary>
    [Test]
    public void LayerNorm_ManyRows_ParameterGradientsMatchReference() => CheckLayerNorm(700, 5, affine: true);

    void CheckLayerNorm(int n, int d, bool affine)
    {
        T eps = T.CreateChecked(1e-5);
        var x = Uniform<T>(n * d, seed: n * 100 + d, low: -3, high: 3);
        var w = affine ? Uniform<T>(d, seed: 1, low: 0.5, high: 1.5) : [];
        var b = affine ? Uniform<T>(d, seed: 2) : [];
        var dy = Uniform<T>(n * d, seed: 3);
        var dx = Uniform<T>(n * d, seed: 4);
        var dw = affine ? Uniform<T>(d, seed: 5) : [];
        var db = affine ? Uniform<T>(d, seed: 6) : [];
        T[] y = new T[n * d], mean = new T[n], rstd = new T[n];
        T[] eDx = (T[])dx.Clone(), eDw = (T[])dw.Clone(), eDb = (T[])db.Clone();
        LayerNormReference.Forward<T>(x, w, b, y, mean, rstd, n, d, eps);
        LayerNormReference.Backward<T>(dy, x, w, mean, rstd, eDx, eDw, eDb, n, d);

        var xView = Upload(x);
        var wView = affine ? Upload(w) : default;
        var yView = Upload(new T[n * d]);
        var meanView = Upload(new T[n]);
        var rstdView = Upload(new T[n]);
        IlgpuLayerNorm.Forward(Backend, xView, wView, affine ? Upload(b) : default, yView, meanView, rstdView, n, d, eps);
        var dxView = Upload(dx);
        var dwView = affine ? Upload(dw) : default;
        var dbView = affine ? Upload(db) : default;
        IlgpuLayerNorm.Backward(Backend, Upload(dy), xView, wView, meanView, rstdView, dxView, dwView, dbView, n, d);
        // d = 1 rows normalise to 0 and their variance is pure rounding: compare with an absolute floor.
        KernelAssert.Close<T>(y, Download(yView), Tol, "y", scale: 10);
        KernelAssert.Close<T>(mean, Download(meanView), Tol, "mean");
        KernelAssert.Close<T>(rstd, Download(rstdView), Tol, "rstd", scale: 10);
        KernelAssert.Close<T>(eDx, Download(dxView), 10 * Tol, "dx", scale: 10);
        if (!affine) return;
        KernelAssert.Close<T>(eDw, Download(dwView), Tol, "dw", scale: n);
        KernelAssert.Close<T>(eDb, Download(dbView), Tol, "db", scale: n);
    }
}
