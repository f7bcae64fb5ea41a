using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

/// <summary>Element-wise kernels, GELU, optimizers and embedding against the CPU references.</summary>
[IlgpuParityFixtures]
public class IlgpuPointwiseTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void Unary_AndBackward_MatchReference([Values] UnaryOp op)
    {
        const int n = 37;
        // Positive inputs keep log, sqrt and reciprocal defined; relu and abs get both signs.
        bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Reciprocal;
        var x = Uniform<T>(n, seed: (int)op, low: positive ? 0.2 : -2, high: 2);
        var dy = Uniform<T>(n, seed: 50);
        var dx = Uniform<T>(n, seed: 51);
        var y = new T[n];
        var expectedDx = (T[])dx.Clone();
        ElementwiseReference.Unary<T>(op, x, y);
        ElementwiseReference.UnaryBackward<T>(op, x, y, dy, expectedDx);

        var xView = Upload(x);
        var yView = Upload(new T[n]);
        var dxView = Upload(dx);
        IlgpuElementwise.Unary(Backend, op, xView, yView);
        IlgpuElementwise.UnaryBackward(Backend, op, xView, yView, Upload(dy), dxView);
        KernelAssert.Close<T>(y, Download(yView), Tol, "y");
        KernelAssert.Close<T>(expectedDx, Download(dxView), 10 * Tol, "dx");
    }

    [Test]
    public void ScaleAxpyFill_MatchReference([Values(1, 33)] int n)
    {
        var x = Uniform<T>(n, seed: 1);
        var y = Uniform<T>(n, seed: 2);
        T alpha = T.CreateChecked(-1.75);
        T[] scaled = new T[n], axpy = (T[])y.Clone(), filled = new T[n];
        ElementwiseReference.Scale<T>(x, alpha, scaled);
        ElementwiseReference.Axpy<T>(alpha, x, axpy);
        ElementwiseReference.Fill<T>(filled, alpha);
        var xView = Upload(x);
        var scaledView = Upload(new T[n]);
        var axpyView = Upload(y);
        var fillView = Upload(new T[n]);
        IlgpuElementwise.Scale(Backend, xView, alpha, scaledView);
        IlgpuElementwise.Axpy(Backend, alpha, xView, axpyView);
        IlgpuElementwise.Fill(Backend, fillView, alpha);
        KernelAssert.Close<T>(scaled, Download(scaledView), Tol, "scale");
        KernelAssert.Close<T>(axpy, Download(axpyView), Tol, "axpy");
        KernelAssert.Equal<T>(filled, Download(fillView), "fill");
    }

    [Test]
    public void Gelu_ForwardAndBackward_MatchReference([Values(1, 33)] int n)
    {
        var x = Uniform<T>(n, seed: n, low: -4, high: 4);
        var dy = Uniform<T>(n, seed: 2);
        var dx = Uniform<T>(n, seed: 3);
        var y = new T[n];
        var expectedDx = (T[])dx.Clone();
        GeluReference.Forward<T>(x, y);
        GeluReference.Backward<T>(x, dy, expectedDx);
        var xView = Upload(x);
        var yView = Upload(new T[n]);
        var dxView = Upload(dx);
        IlgpuGelu.Forward(Backend, xView, yView);
        IlgpuGelu.Backward(Backend, xView, Upload(dy), dxView);
        KernelAssert.Close<T>(y, Download(yView), Tol, "y");
        KernelAssert.Close<T>(expectedDx, Download(dxView), Tol, "dx");
    }

    [Test]
    public void Sgd_MatchesReference([Values(false, true)] bool momentum, [Values(0.0, 0.01)] double weightDecay)
    {
        const int n = 33;
        var param = Uniform<T>(n, seed: 1);
        var grad = Uniform<T>(n, seed: 2);
        var buf = momentum ? Uniform<T>(n, seed: 3) : [];
        T lr = T.CreateChecked(0.1), mu = T.CreateChecked(0.9), wd = T.CreateChecked(weightDecay);
        T[] expectedParam = (T[])param.Clone(), expectedBuf = (T[])buf.Clone();
        OptimizersReference.Sgd<T>(expectedParam, grad, expectedBuf, lr, mu, wd);
        var paramView = Upload(param);
        var bufView = momentum ? Upload(buf) : default;
        IlgpuOptimizers.Sgd(Backend, paramView, Upload(grad), bufView, lr, mu, wd);
        KernelAssert.Close<T>(expectedParam, Download(paramView), Tol, "param");
        if (momentum) KernelAssert.Close<T>(expectedBuf, Download(bufView), Tol, "momentum");
    }

    [Test]
    public void AdamAndAdamW_MatchReference([Values(false, true)] bool decoupled, [Values(0.0, 0.1)] double weightDecay,
        [Values(1, 5)] int step)
    {
        const int n = 33;
        var param = Uniform<T>(n, seed: 1);
        var grad = Uniform<T>(n, seed: 2);
        var m = Uniform<T>(n, seed: 3, low: -0.1, high: 0.1);
        var v = Uniform<T>(n, seed: 4, low: 0, high: 0.01);
        T lr = T.CreateChecked(1e-2), beta1 = T.CreateChecked(0.9), beta2 = T.CreateChecked(0.999), eps = T.CreateChecked(1e-8);
        T wd = T.CreateChecked(weightDecay);
        T[] eParam = (T[])param.Clone(), eM = (T[])m.Clone(), eV = (T[])v.Clone();
        if (decoupled) OptimizersReference.AdamW<T>(eParam, grad, eM, eV, lr, beta1, beta2, eps, wd, step);
        else OptimizersReference.Adam<T>(eParam, grad, eM, eV, lr, beta1, beta2, eps, wd, step);
        var paramView = Upload(param);
        var mView = Upload(m);
        var vView = Upload(v);
        if (decoupled) IlgpuOptimizers.AdamW(Backend, paramView, Upload(grad), mView, vView, lr, beta1, beta2, eps, wd, step);
        else IlgpuOptimizers.Adam(Backend, paramView, Upload(grad), mView, vView, lr, beta1, beta2, eps, wd, step);
        KernelAssert.Close<T>(eParam, Download(paramView), Tol, "param");
        KernelAssert.Close<T>(eM, Download(mView), Tol, "m");
        KernelAssert.Close<T>(eV, Download(vView), Tol, "v");
    }

    [Test]
    public void Embedding_GatherAndScatterAdd_MatchReference([Values(1, 7, 33)] int n, [Values(1, 7)] int d,
        [Values(5, 5000)] int vocab)
    {
        // 5: fewer rows than positions, ids repeat and must accumulate; 5000: most rows get nothing.
        // The scatter-add sorts positions by id, then adds in position order, as the reference does.
        var ids = Indices(n, vocab, seed: n);
        var table = Uniform<T>(vocab * d, seed: 1);
        var dy = Uniform<T>(n * d, seed: 2);
        var dTable = Uniform<T>(vocab * d, seed: 3);
        var y = new T[n * d];
        var expectedDTable = (T[])dTable.Clone();
        EmbeddingReference.Gather<T>(ids, table, y, vocab, d);
        EmbeddingReference.ScatterAdd<T>(ids, dy, expectedDTable, vocab, d);
        var idsView = Upload(ids);
        var yView = Upload(new T[n * d]);
        var dTableView = Upload(dTable);
        IlgpuEmbedding.Gather(Backend, idsView, Upload(table), yView, vocab, d);
        IlgpuEmbedding.ScatterAdd(Backend, idsView, Upload(dy), dTableView, vocab, d);
        KernelAssert.Equal<T>(y, Download(yView), "y");
        KernelAssert.Equal<T>(expectedDTable, Download(dTableView), "dTable (same order of additions as the reference)");
    }

    /// <summary>
    /// Many positions over several chunks of the counting sort, a small table, some invalid ids: the same bits as
    /// the reference (each element adds its positions in position order), and the same again on a second call.
    /// </summary>
    [Test]
    public void Embedding_ManyPositions_ScatterAddIsBitIdenticalToReference([Values(3, 67)] int vocab)
    {
        const int d = 3;
        int n = 2 * IlgpuEmbedding.ChunkPositions + 189;
        var ids = Indices(n, vocab, seed: 5);
        ids[0] = -1;
        ids[IlgpuEmbedding.ChunkPositions] = vocab;   // out of range: skipped
        var dy = Uniform<T>(n * d, seed: 6);
        var dTable = Uniform<T>(vocab * d, seed: 7);
        // The reference refuses invalid ids: give it the valid positions only, in their order.
        var valid = Enumerable.Range(0, n).Where(p => ids[p] >= 0 && ids[p] < vocab).ToArray();
        var validIds = valid.Select(p => ids[p]).ToArray();
        var validDy = valid.SelectMany(p => dy.Skip(p * d).Take(d)).ToArray();
        var expected = (T[])dTable.Clone();
        EmbeddingReference.ScatterAdd<T>(validIds, validDy, expected, vocab, d);
        EmbeddingReference.ScatterAdd<T>(validIds, validDy, expected, vocab, d);
        var dTableView = Upload(dTable);
        var (idsView, dyView) = (Upload(ids), Upload(dy));
        IlgpuEmbedding.ScatterAdd(Backend, idsView, dyView, dTableView, vocab, d);
        IlgpuEmbedding.ScatterAdd(Backend, idsView, dyView, dTableView, vocab, d);
        KernelAssert.Equal<T>(expected, Download(dTableView), "dTable");
    }

    [Test]
    public void Embedding_InvalidId_GivesNaNRowAndIsSkipped()
    {
        var ids = Upload(new[] { 1, 9 });
        var y = Upload(new T[4]);
        var dTable = Upload(new T[4]);
        IlgpuEmbedding.Gather(Backend, ids, Upload(new[] { T.One, T.One, T.One, T.One }), y, 2, 2);
        IlgpuEmbedding.ScatterAdd(Backend, ids, Upload(new[] { T.One, T.One, T.One, T.One }), dTable, 2, 2);
        var gathered = Download(y);
        Assert.That(gathered[0] == T.One && T.IsNaN(gathered[2]) && T.IsNaN(gathered[3]));
        KernelAssert.Equal<T>([T.Zero, T.Zero, T.One, T.One], Download(dTable), "dTable");
    }
}
