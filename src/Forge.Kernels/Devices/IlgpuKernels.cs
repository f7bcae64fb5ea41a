using System.Numerics;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Devices;

/// <summary>
/// <see cref="Backend{T}"/> on an <see cref="IlgpuDevice"/>: each method turns the tensors into views of
/// their device buffers and queues the ILGPU kernel of the same name (<see cref="IlgpuGemm"/>,
/// <see cref="IlgpuSoftmax"/>, …) on the device's stream. Nothing here waits for the device except
/// the SumOfSquares methods (their numbers come back) and MaxBackward (computed on the host).
/// </summary>
internal sealed class IlgpuKernels<T> : Backend<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly IlgpuDevice _device;
    readonly IlgpuBackend _gpu;

    public IlgpuKernels(IlgpuDevice device)
    {
        _device = device;
        _gpu = device.Accelerator;
        if (typeof(T) == typeof(double) && !_gpu.SupportsFloat64)
            throw new NotSupportedException($"device '{device.Name}' has no float64 support");
    }

    public override Device Device => _device;

    /// <summary>Exactly the tensor's elements (it must be contiguous).</summary>
    static ArrayView1D<TE, Stride1D.Dense> E<TE>(Tensor<TE> t) where TE : unmanaged, INumberBase<TE>
    {
        if (!t.IsContiguous) throw new InvalidOperationException($"ILGPU kernels need contiguous tensors, got a view {Shape.Format(t.Shape)}");
        return Storage(t).View(t.Offset, t.Length);
    }

    /// <summary>The storage from the tensor's offset to its end (kernels with explicit dimensions or strides).</summary>
    static ArrayView1D<TE, Stride1D.Dense> From<TE>(Tensor<TE> t) where TE : unmanaged, INumberBase<TE> =>
        Storage(t).View(t.Offset, t.Storage.Length - t.Offset);

    static ArrayView1D<TE, Stride1D.Dense> Optional<TE>(Tensor<TE>? t) where TE : unmanaged, INumberBase<TE> =>
        t is null ? ArrayView1D<TE, Stride1D.Dense>.Empty : E(t);

    static IlgpuStorage<TE> Storage<TE>(Tensor<TE> t) where TE : unmanaged, INumberBase<TE> =>
        t.Storage as IlgpuStorage<TE> ?? throw new InvalidOperationException($"a tensor on '{t.Device.Name}' reached the ILGPU kernels");

    public override void Unary(UnaryOp op, Tensor<T> x, Tensor<T> y) => IlgpuElementwise.Unary(_gpu, op, E(x), E(y));
    public override void UnaryBackward(UnaryOp op, Tensor<T> x, Tensor<T> y, Tensor<T> dy, Tensor<T> dx) => IlgpuElementwise.UnaryBackward(_gpu, op, E(x), E(y), E(dy), E(dx));
    public override void Scale(Tensor<T> x, T alpha, Tensor<T> y) => IlgpuElementwise.Scale(_gpu, E(x), alpha, E(y));
    public override void Axpy(T alpha, Tensor<T> x, Tensor<T> y) => IlgpuElementwise.Axpy(_gpu, alpha, E(x), E(y));
    public override void Fill(Tensor<T> y, T value) => IlgpuElementwise.Fill(_gpu, E(y), value);

    public override void FillMany(ReadOnlySpan<Tensor<T>> ys, T value) => IlgpuMultiTensor.Fill(_gpu, ViewsOf(ys, 0), value);

    // Reused arrays of views for the many-tensor kernels (a step allocates nothing); the backend queues on one stream.
    readonly ArrayView1D<T, Stride1D.Dense>[][] _views = [[], [], [], []];

    /// <summary>The tensors' views in reused array <paramref name="slot"/> (0–3: up to four lists at once).</summary>
    ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> ViewsOf(ReadOnlySpan<Tensor<T>> xs, int slot)
    {
        if (_views[slot].Length < xs.Length) _views[slot] = new ArrayView1D<T, Stride1D.Dense>[xs.Length];
        var views = _views[slot];
        for (int i = 0; i < xs.Length; i++) views[i] = E(xs[i]);
        return views.AsSpan(0, xs.Length);
    }

    public override void Binary(BinaryOp op, ReadOnlySpan<int> shape, Tensor<T> a, ReadOnlySpan<int> aStrides, Tensor<T> b, ReadOnlySpan<int> bStrides, Tensor<T> y) =>
        IlgpuElementwise.Binary(_gpu, op, shape, Whole(a), a.Offset, aStrides, Whole(b), b.Offset, bStrides, E(y));
    public override void Copy(ReadOnlySpan<int> shape, Tensor<T> x, ReadOnlySpan<int> xStrides, Tensor<T> y) =>
        IlgpuElementwise.Copy(_gpu, shape, Whole(x), x.Offset, xStrides, E(y));
    public override void AddStrided(ReadOnlySpan<int> shape, Tensor<T> x, Tensor<T> y, ReadOnlySpan<int> yStrides) =>
        IlgpuElementwise.AddStrided(_gpu, shape, E(x), Whole(y), y.Offset, yStrides);
    public override void ReduceBroadcast(ReadOnlySpan<int> fullShape, Tensor<T> x, ReadOnlySpan<int> targetShape, Tensor<T> target) =>
        IlgpuElementwise.ReduceBroadcast(_gpu, fullShape, E(x), targetShape, E(target));

    public override void Sum(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y) => IlgpuReduce.Sum(_gpu, E(x), outer, axis, inner, E(y));
    public override void Max(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y, Tensor<int> argmax) =>
        IlgpuReduce.Max(_gpu, E(x), outer, axis, inner, E(y), E(argmax));

    /// <summary>
    /// dx[o, argmax, i] += dy[o, i] through the host: no ILGPU kernel yet (max is not on any model's
    /// training path; it is here so that every op runs on every device). Waits for the device.
    /// </summary>
    public override void MaxBackward(Tensor<T> dy, Tensor<int> argmax, int outer, int axis, int inner, Tensor<T> dx)
    {
        var dxHost = dx.ToArray();
        var cpu = CpuBackend<T>.Instance;
        var hostDx = Tensor.FromArray(dxHost, dx.Shape);
        cpu.MaxBackward(dy.ToDevice(CpuDevice.Instance), argmax.ToDevice(CpuDevice.Instance), outer, axis, inner, hostDx);
        dx.CopyFrom(hostDx);
    }

    Tensor<T>? _sumOfSquares;
    T[] _hostSums = [];

    /// <summary>Σ x², reduced on the device into one element and read back (waits for the device).</summary>
    public override double SumOfSquares(Tensor<T> x) => SumOfSquares(new ReadOnlySpan<Tensor<T>>(in x));

    /// <summary>
    /// Each tensor reduced into its own element of a device buffer (<see cref="IlgpuMultiTensor.SumOfSquares{T}"/>:
    /// one or two launches per 8 tensors, each sum bit-identical to the one-tensor reduction), the buffer read back
    /// once (one wait, not one per tensor), the sums added in index order in double.
    /// </summary>
    public override double SumOfSquares(ReadOnlySpan<Tensor<T>> xs)
    {
        if (xs.IsEmpty) return 0;
        if (_sumOfSquares is null || _sumOfSquares.Length < xs.Length)
        {
            _sumOfSquares = new Tensor<T>([xs.Length], _device);
            _hostSums = new T[xs.Length];
        }
        var sums = E(_sumOfSquares);
        IlgpuMultiTensor.SumOfSquares(_gpu, ViewsOf(xs, 0), sums);
        _sumOfSquares.Storage.CopyToHost(_sumOfSquares.Offset, _hostSums.AsSpan(0, xs.Length));
        double total = 0;
        for (int i = 0; i < xs.Length; i++) total += double.CreateChecked(_hostSums[i]);
        return total;
    }

    /// <summary>The tensor's whole buffer (strided kernels take the offset apart).</summary>
    static ArrayView1D<TE, Stride1D.Dense> Whole<TE>(Tensor<TE> t) where TE : unmanaged, INumberBase<TE> => Storage(t).View(0, t.Storage.Length);

    public override void Gemm(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, long strideA, Tensor<T> b, int ldb, long strideB, T beta, Tensor<T> c, int ldc, long strideC, int batch) =>
        IlgpuGemm.RunBatched(_gpu, transA, transB, m, n, k, alpha, From(a), lda, strideA, From(b), ldb, strideB, beta, From(c), ldc, strideC, batch);
    // The bias is added in the GEMM's store (one launch, C never read).
    public override void GemmWithBias(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, Tensor<T> b, int ldb, Tensor<T> bias, Tensor<T> c, int ldc)
    {
        IlgpuGemm.RunWithBias(_gpu, transA, transB, m, n, k, alpha, From(a), lda, From(b), ldb, E(bias), From(c), ldc);
    }

    public override void SoftmaxForward(Tensor<T> x, Tensor<T> y, int rows, int cols) => IlgpuSoftmax.Forward(_gpu, E(x), E(y), rows, cols);
    public override void SoftmaxForwardCausal(Tensor<T> x, Tensor<T> y, int batch, int t) => IlgpuSoftmax.ForwardCausal(_gpu, E(x), E(y), batch, t);
    public override void SoftmaxBackward(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int rows, int cols) => IlgpuSoftmax.Backward(_gpu, E(y), E(dy), E(dx), rows, cols);
    public override void SoftmaxBackwardCausal(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int batch, int t) => IlgpuSoftmax.BackwardCausal(_gpu, E(y), E(dy), E(dx), batch, t);

    public override void LayerNormForward(Tensor<T> x, Tensor<T> w, Tensor<T> b, Tensor<T> y, Tensor<T> mean, Tensor<T> rstd, int n, int d, T eps) =>
        IlgpuLayerNorm.Forward(_gpu, E(x), E(w), E(b), E(y), E(mean), E(rstd), n, d, eps);
    // The backward kernels below overwrite their input gradient when asked (no zero-fill launch first).
    public override void LayerNormBackward(Tensor<T> dy, Tensor<T> x, Tensor<T> w, Tensor<T> mean, Tensor<T> rstd, Tensor<T> dx, Tensor<T> dw, Tensor<T> db, int n, int d, bool accumulateDx) =>
        IlgpuLayerNorm.Backward(_gpu, E(dy), E(x), E(w), E(mean), E(rstd), E(dx), E(dw), E(db), n, d, accumulateDx);

    public override void GeluForward(Tensor<T> x, Tensor<T> y) => IlgpuGelu.Forward(_gpu, E(x), E(y));
    public override void GeluBackward(Tensor<T> x, Tensor<T> dy, Tensor<T> dx, bool accumulate) =>
        IlgpuGelu.Backward(_gpu, E(x), E(dy), E(dx), accumulate);

    public override void EmbeddingGather(Tensor<int> ids, Tensor<T> table, Tensor<T> y, int vocab, int d) => IlgpuEmbedding.Gather(_gpu, E(ids), E(table), E(y), vocab, d);
    public override void EmbeddingScatterAdd(Tensor<int> ids, Tensor<T> dy, Tensor<T> dTable, int vocab, int d) => IlgpuEmbedding.ScatterAdd(_gpu, E(ids), E(dy), E(dTable), vocab, d);

    public override void CrossEntropyForward(Tensor<T> logits, Tensor<int> targets, Tensor<T>? mask, Tensor<T> probs, Tensor<T> rowLoss, Tensor<T> loss, int n, int vocab) =>
        IlgpuCrossEntropy.Forward(_gpu, E(logits), E(targets), Optional(mask), E(probs), E(rowLoss), From(loss), n, vocab);
    // dLoss (the loss's gradient, one element) is read by the kernel on the device: no wait.
    public override void CrossEntropyBackward(Tensor<T> probs, Tensor<int> targets, Tensor<T>? mask, Tensor<T> dLoss, Tensor<T> dLogits, int n, int vocab, bool accumulate) =>
        IlgpuCrossEntropy.Backward(_gpu, E(probs), E(targets), Optional(mask), Storage(dLoss).View(dLoss.Offset, 1), E(dLogits), n, vocab, accumulate);

    public override void AttentionForward(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> scores, Tensor<T> pattern, Tensor<T> z,
        int batch, int t, int heads, int dHead, T scale) =>
        IlgpuAttention.Forward(_gpu, E(q), E(k), E(v), E(scores), E(pattern), E(z), batch, t, heads, dHead, scale);
    public override void AttentionBackward(Tensor<T> dz, Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> pattern,
        Tensor<T> dPatternScratch, Tensor<T> dScoresScratch, Tensor<T> dq, Tensor<T> dk, Tensor<T> dv, int batch, int t, int heads, int dHead, T scale,
        bool accumulateDq, bool accumulateDk, bool accumulateDv)
    {
        // The device writes dv and dk, then dq; the flags come in the CPU kernel's order (dv, dq, dk). When two
        // of the gradients share memory that order matters, so then they are zeroed first and accumulated into.
        if (Overlap(dq, dk) || Overlap(dq, dv) || Overlap(dk, dv))
        {
            if (!accumulateDq) Fill(dq, T.Zero);
            if (!accumulateDk) Fill(dk, T.Zero);
            if (!accumulateDv) Fill(dv, T.Zero);
            accumulateDq = accumulateDk = accumulateDv = true;
        }
        IlgpuAttention.Backward(_gpu, E(dz), E(q), E(k), E(v), E(pattern), E(dPatternScratch), E(dScoresScratch), E(dq), E(dk), E(dv),
            batch, t, heads, dHead, scale, accumulateDq, accumulateDk, accumulateDv);
    }

    /// <summary>Whether two tensors' elements share memory (same storage, overlapping ranges).</summary>
    static bool Overlap(Tensor<T> a, Tensor<T> b) =>
        ReferenceEquals(a.Storage, b.Storage) && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length;

    public override void Sgd(Tensor<T> param, Tensor<T> grad, Tensor<T>? momentumBuf, T lr, T momentum, T weightDecay) =>
        IlgpuOptimizers.Sgd(_gpu, E(param), E(grad), Optional(momentumBuf), lr, momentum, weightDecay);
    public override void Adam(bool decoupled, Tensor<T> param, Tensor<T> grad, Tensor<T> m, Tensor<T> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
    {
        if (decoupled) IlgpuOptimizers.AdamW(_gpu, E(param), E(grad), E(m), E(v), lr, beta1, beta2, eps, weightDecay, step);
        else IlgpuOptimizers.Adam(_gpu, E(param), E(grad), E(m), E(v), lr, beta1, beta2, eps, weightDecay, step);
    }

    public override void ScaleManyInPlace(ReadOnlySpan<Tensor<T>> xs, T alpha) => IlgpuMultiTensor.ScaleInPlace(_gpu, ViewsOf(xs, 0), alpha);

    public override void AdamMany(bool decoupled, ReadOnlySpan<Tensor<T>> parameters, ReadOnlySpan<Tensor<T>> grads, ReadOnlySpan<Tensor<T>> m,
        ReadOnlySpan<Tensor<T>> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step) =>
        IlgpuOptimizers.AdamMany(_gpu, decoupled, ViewsOf(parameters, 0), ViewsOf(grads, 1), ViewsOf(m, 2), ViewsOf(v, 3), lr, beta1, beta2, eps, weightDecay, step);
}
