using System.Numerics;

namespace Forge.Kernels;

/// <summary>
/// The SIMD CPU kernels behind the <see cref="Backend{T}"/> interface: every method hands spans of the
/// tensors' managed arrays to the CPU kernel of the same name. Synchronous, allocation-free.
/// </summary>
public sealed class CpuBackend<T> : Backend<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly CpuBackend<T> Instance = new();
    CpuBackend() { }

    public override Device Device => CpuDevice.Instance;

    /// <summary>A contiguous tensor's elements (exactly <see cref="Tensor{T}.Length"/>).</summary>
    static Span<TElement> E<TElement>(Tensor<TElement> t) where TElement : unmanaged, INumberBase<TElement> => t.AsSpan();

    /// <summary>The storage from the tensor's offset to its end (kernels with explicit dimensions or strides).</summary>
    static Span<TElement> From<TElement>(Tensor<TElement> t) where TElement : unmanaged, INumberBase<TElement> => t.HostArray.AsSpan(t.Offset);

    static Span<TElement> Optional<TElement>(Tensor<TElement>? t) where TElement : unmanaged, INumberBase<TElement> => t is null ? default : t.AsSpan();

    public override void Unary(UnaryOp op, Tensor<T> x, Tensor<T> y) => Elementwise.Unary(op, E(x), E(y));
    public override void UnaryBackward(UnaryOp op, Tensor<T> x, Tensor<T> y, Tensor<T> dy, Tensor<T> dx) => Elementwise.UnaryBackward(op, E(x), E(y), E(dy), E(dx));
    public override void Binary(BinaryOp op, ReadOnlySpan<int> shape, Tensor<T> a, ReadOnlySpan<int> aStrides, Tensor<T> b, ReadOnlySpan<int> bStrides, Tensor<T> y) =>
        Elementwise.Binary(op, shape, a.HostArray, a.Offset, aStrides, b.HostArray, b.Offset, bStrides, E(y));
    public override void Scale(Tensor<T> x, T alpha, Tensor<T> y) => Elementwise.Scale<T>(E(x), alpha, E(y));
    public override void Axpy(T alpha, Tensor<T> x, Tensor<T> y) => Elementwise.Axpy<T>(alpha, E(x), E(y));
    public override void Fill(Tensor<T> y, T value) => Elementwise.Fill(E(y), value);
    public override void Copy(ReadOnlySpan<int> shape, Tensor<T> x, ReadOnlySpan<int> xStrides, Tensor<T> y) =>
        Elementwise.Copy(shape, x.HostArray, x.Offset, xStrides, E(y));
    public override void AddStrided(ReadOnlySpan<int> shape, Tensor<T> x, Tensor<T> y, ReadOnlySpan<int> yStrides) =>
        Elementwise.AddStrided(shape, E(x), y.HostArray, y.Offset, yStrides);
    public override void ReduceBroadcast(ReadOnlySpan<int> fullShape, Tensor<T> x, ReadOnlySpan<int> targetShape, Tensor<T> target) =>
        Elementwise.ReduceBroadcast(fullShape, E(x), targetShape, E(target));

    public override void Sum(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y) => Reduce.Sum(E(x), outer, axis, inner, E(y));
    public override void Max(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y, Tensor<int> argmax) => Reduce.Max(E(x), outer, axis, inner, E(y), E(argmax));

    public override void MaxBackward(Tensor<T> dy, Tensor<int> argmax, int outer, int axis, int inner, Tensor<T> dx)
    {
        Span<T> dyE = E(dy), dxE = E(dx);
        Span<int> winners = E(argmax);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int flat = o * inner + i;
                dxE[(o * axis + winners[flat]) * inner + i] += dyE[flat];
            }
    }

    public override double SumOfSquares(Tensor<T> x) => Reduce.SumOfSquares<T>(E(x));

    public override void Gemm(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, long strideA, Tensor<T> b, int ldb, long strideB, T beta, Tensor<T> c, int ldc, long strideC, int batch) =>
        Kernels.Gemm.RunBatched(transA, transB, m, n, k, alpha, From(a), lda, strideA, From(b), ldb, strideB, beta, From(c), ldc, strideC, batch);
    public override void GemmWithBias(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, Tensor<T> b, int ldb, Tensor<T> bias, Tensor<T> c, int ldc) =>
        Kernels.Gemm.RunWithBias(transA, transB, m, n, k, alpha, From(a), lda, From(b), ldb, From(bias), From(c), ldc);
    public override void LinearForwardOnRows(int m, int n, int k, Tensor<T> x, Tensor<T> w, bool transW, int ldw,
        Tensor<T> bias, Tensor<T> y, Tensor<T> needed) =>
        Kernels.Gemm.LinearForwardOnRows(m, n, k, From(x), From(w), transW, ldw, From(bias), From(y), E(needed));
    public override void LinearBackward(int m, int k, int n, Tensor<T> dy, Tensor<T> x, Tensor<T> w, bool transW, int ldw,
        Tensor<T>? dx, T betaX, Tensor<T>? dw, T betaW) =>
        Kernels.Gemm.LinearBackward(m, k, n, From(dy), From(x), From(w), transW, ldw,
            dx is null ? default : From(dx), betaX, dw is null ? default : From(dw), betaW);

    public override void SoftmaxForward(Tensor<T> x, Tensor<T> y, int rows, int cols) => Softmax.Forward<T>(E(x), E(y), rows, cols);
    public override void SoftmaxForwardCausal(Tensor<T> x, Tensor<T> y, int batch, int t) => Softmax.ForwardCausal<T>(E(x), E(y), batch, t);
    public override void SoftmaxBackward(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int rows, int cols) => Softmax.Backward<T>(E(y), E(dy), E(dx), rows, cols);
    public override void SoftmaxBackwardCausal(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int batch, int t) => Softmax.BackwardCausal<T>(E(y), E(dy), E(dx), batch, t);

    public override void LayerNormForward(Tensor<T> x, Tensor<T> w, Tensor<T> b, Tensor<T> y, Tensor<T> mean, Tensor<T> rstd, int n, int d, T eps) =>
        LayerNorm.Forward<T>(E(x), E(w), E(b), E(y), E(mean), E(rstd), n, d, eps);
    public override void LayerNormForwardOnRows(Tensor<T> x, Tensor<T> w, Tensor<T> b, Tensor<T> y, Tensor<T> mean, Tensor<T> rstd, int n, int d, T eps, Tensor<T> needed) =>
        LayerNorm.Forward<T>(E(x), E(w), E(b), E(y), E(mean), E(rstd), n, d, eps, E(needed));
    public override void LayerNormBackward(Tensor<T> dy, Tensor<T> x, Tensor<T> w, Tensor<T> mean, Tensor<T> rstd, Tensor<T> dx, Tensor<T> dw, Tensor<T> db, int n, int d, bool accumulateDx) =>
        LayerNorm.Backward<T>(E(dy), E(x), E(w), E(mean), E(rstd), E(dx), E(dw), E(db), n, d, accumulateDx);

    public override void GeluForward(Tensor<T> x, Tensor<T> y) => Gelu.Forward<T>(E(x), E(y));
    public override void GeluBackward(Tensor<T> x, Tensor<T> dy, Tensor<T> dx, bool accumulate) => Gelu.Backward<T>(E(x), E(dy), E(dx), accumulate);
    public override bool GeluKeepsTanh => true;
    public override void GeluForward(Tensor<T> x, Tensor<T> y, Tensor<T> tanh) => Gelu.Forward<T>(E(x), E(y), E(tanh));
    public override void GeluBackward(Tensor<T> x, Tensor<T> tanh, Tensor<T> dy, Tensor<T> dx, bool accumulate) =>
        Gelu.Backward<T>(E(x), E(tanh), E(dy), E(dx), accumulate);

    public override void EmbeddingGather(Tensor<int> ids, Tensor<T> table, Tensor<T> y, int vocab, int d) => Embedding.Gather<T>(E(ids), E(table), E(y), vocab, d);
    public override void EmbeddingScatterAdd(Tensor<int> ids, Tensor<T> dy, Tensor<T> dTable, int vocab, int d) => Embedding.ScatterAdd<T>(E(ids), E(dy), E(dTable), vocab, d);

    public override void CrossEntropyForward(Tensor<T> logits, Tensor<int> targets, Tensor<T>? mask, Tensor<T> probs, Tensor<T> rowLoss, Tensor<T> loss, int n, int vocab) =>
        From(loss)[0] = CrossEntropy.Forward<T>(E(logits), E(targets), Optional(mask), E(probs), E(rowLoss), n, vocab);
    public override void CrossEntropyBackward(Tensor<T> probs, Tensor<int> targets, Tensor<T>? mask, Tensor<T> dLoss, Tensor<T> dLogits, int n, int vocab, bool accumulate) =>
        CrossEntropy.Backward<T>(E(probs), E(targets), Optional(mask), From(dLoss)[0], E(dLogits), n, vocab, accumulate);

    public override void AttentionForward(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> scores, Tensor<T> pattern, Tensor<T> z,
        int batch, int t, int heads, int dHead, T scale) =>
        Attention.Forward<T>(E(q), E(k), E(v), E(scores), E(pattern), E(z), batch, t, heads, dHead, scale);
    public override void AttentionBackward(Tensor<T> dz, Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> pattern,
        Tensor<T> dPatternScratch, Tensor<T> dScoresScratch, Tensor<T> dq, Tensor<T> dk, Tensor<T> dv, int batch, int t, int heads, int dHead, T scale,
        bool accumulateDq, bool accumulateDk, bool accumulateDv) =>
        Attention.Backward<T>(E(dz), E(q), E(k), E(v), E(pattern), E(dPatternScratch), E(dScoresScratch), E(dq), E(dk), E(dv), batch, t, heads, dHead, scale,
            accumulateDq, accumulateDk, accumulateDv);

    public override void Sgd(Tensor<T> param, Tensor<T> grad, Tensor<T>? momentumBuf, T lr, T momentum, T weightDecay) =>
        Optimizers.Sgd(E(param), E(grad), Optional(momentumBuf), lr, momentum, weightDecay);
    public override void Adam(bool decoupled, Tensor<T> param, Tensor<T> grad, Tensor<T> m, Tensor<T> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
    {
        if (decoupled) Optimizers.AdamW(E(param), E(grad), E(m), E(v), lr, beta1, beta2, eps, weightDecay, step);
        else Optimizers.Adam(E(param), E(grad), E(m), E(v), lr, beta1, beta2, eps, weightDecay, step);
    }
}
