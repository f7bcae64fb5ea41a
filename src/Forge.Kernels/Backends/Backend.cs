using System.Numerics;

namespace Forge.Kernels;

/// <summary>
/// The kernel set of one <see cref="Device"/>, for tensors whose storage lives there: what the autograd
/// ops, optimizers and trainers call instead of the CPU kernels directly, so that the same graph runs on
/// the SIMD CPU path or on an ILGPU accelerator (CUDA, OpenCL, or the CPU emulator used by tests).
/// <para>
/// Conventions. A tensor argument stands for its storage from its <see cref="Tensor{T}.Offset"/> on:
/// kernels with a length semantics (elementwise, optimizers) use the tensor's <see cref="Tensor{T}.Length"/>
/// elements and need it contiguous; kernels with explicit dimensions (GEMM, softmax, LayerNorm, …) read
/// and write row-major from the offset exactly as the CPU kernel of the same name documents; strided
/// kernels take the strides next to the tensor. Every method has the meaning of the CPU kernel it is
/// named after (<see cref="Elementwise"/>, <see cref="Gemm"/>, <see cref="Softmax"/>, …), including
/// "accumulates" (+=) where that kernel accumulates. Calls are asynchronous on a GPU: only
/// <see cref="SumOfSquares"/> and the storage's host copies wait for the device.
/// </para>
/// </summary>
public abstract class Backend<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The device whose storage this backend's kernels read and write.</summary>
    public abstract Device Device { get; }

    // ---- elementwise ---------------------------------------------------------------------------

    /// <summary>y = f(x), elementwise over x's elements.</summary>
    public abstract void Unary(UnaryOp op, Tensor<T> x, Tensor<T> y);
    /// <summary>dx += f'(x)·dy, given x and y = f(x).</summary>
    public abstract void UnaryBackward(UnaryOp op, Tensor<T> x, Tensor<T> y, Tensor<T> dy, Tensor<T> dx);
    /// <summary>y (contiguous, <paramref name="shape"/>) = a ∘ b, a and b read through their broadcast strides.</summary>
    public abstract void Binary(BinaryOp op, ReadOnlySpan<int> shape, Tensor<T> a, ReadOnlySpan<int> aStrides, Tensor<T> b, ReadOnlySpan<int> bStrides, Tensor<T> y);
    /// <summary>y = alpha·x.</summary>
    public abstract void Scale(Tensor<T> x, T alpha, Tensor<T> y);
    /// <summary>y += alpha·x.</summary>
    public abstract void Axpy(T alpha, Tensor<T> x, Tensor<T> y);
    /// <summary>Every element of y = value.</summary>
    public abstract void Fill(Tensor<T> y, T value);
    /// <summary>
    /// <see cref="Fill"/> of every tensor of <paramref name="ys"/> (e.g. a model's parameter gradients), the same as
    /// calling it tensor by tensor (which is what this does). A device overrides it to fill many tensors per launch.
    /// </summary>
    public virtual void FillMany(ReadOnlySpan<Tensor<T>> ys, T value)
    {
        foreach (var y in ys) Fill(y, value);
    }

    /// <summary>x = alpha·x for every tensor of <paramref name="xs"/>, the same as <see cref="Scale"/>(x, alpha, x) tensor by tensor (which is what this does); a device overrides it.</summary>
    public virtual void ScaleManyInPlace(ReadOnlySpan<Tensor<T>> xs, T alpha)
    {
        foreach (var x in xs) Scale(x, alpha, x);
    }
    /// <summary>y (contiguous) = x read through <paramref name="xStrides"/> over <paramref name="shape"/>.</summary>
    public abstract void Copy(ReadOnlySpan<int> shape, Tensor<T> x, ReadOnlySpan<int> xStrides, Tensor<T> y);
    /// <summary>y (through <paramref name="yStrides"/>) += x (contiguous), over <paramref name="shape"/>.</summary>
    public abstract void AddStrided(ReadOnlySpan<int> shape, Tensor<T> x, Tensor<T> y, ReadOnlySpan<int> yStrides);
    /// <summary>target += x summed over the axes along which target was broadcast to <paramref name="fullShape"/>.</summary>
    public abstract void ReduceBroadcast(ReadOnlySpan<int> fullShape, Tensor<T> x, ReadOnlySpan<int> targetShape, Tensor<T> target);

    // ---- reductions ----------------------------------------------------------------------------

    /// <summary>y (outer, inner) = Σ over the middle axis of x (outer, axis, inner).</summary>
    public abstract void Sum(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y);
    /// <summary>y (outer, inner) = max over the middle axis of x, argmax = the first index that wins.</summary>
    public abstract void Max(Tensor<T> x, int outer, int axis, int inner, Tensor<T> y, Tensor<int> argmax);
    /// <summary>dx[o, argmax[o, i], i] += dy[o, i].</summary>
    public abstract void MaxBackward(Tensor<T> dy, Tensor<int> argmax, int outer, int axis, int inner, Tensor<T> dx);
    /// <summary>Σ x² in double precision (waits for the device: one number comes back).</summary>
    public abstract double SumOfSquares(Tensor<T> x);

    /// <summary>
    /// Σ over the tensors of <see cref="SumOfSquares(Tensor{T})"/>, added in index order: the same number
    /// as calling it per tensor. A device overrides it to wait once for all of them instead of once per
    /// tensor (global-norm clipping asks for every parameter gradient at once).
    /// </summary>
    public virtual double SumOfSquares(ReadOnlySpan<Tensor<T>> xs)
    {
        double total = 0;
        foreach (var x in xs) total += SumOfSquares(x);
        return total;
    }

    // ---- matrix products -----------------------------------------------------------------------

    /// <summary>
    /// <paramref name="batch"/> products C = alpha·op(A)·op(B) + beta·C, matrices <c>stride</c> elements
    /// apart, as <see cref="Gemm.RunBatched{T}"/> (beta = 0 ignores C's old contents).
    /// </summary>
    public abstract void Gemm(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, long strideA, Tensor<T> b, int ldb, long strideB, T beta, Tensor<T> c, int ldc, long strideC, int batch);

    /// <summary>
    /// C (m, n) = alpha·op(A)·op(B) + bias, the bias (n) added to every row — a linear layer's forward,
    /// as <see cref="Gemm.RunWithBias{T}"/> (C's old contents are never read).
    /// </summary>
    public abstract void GemmWithBias(bool transA, bool transB, int m, int n, int k, T alpha,
        Tensor<T> a, int lda, Tensor<T> b, int ldb, Tensor<T> bias, Tensor<T> c, int ldc);

    /// <summary>
    /// A linear layer's forward, Y (m, n) = X (m, k)·op(W) + bias, of which only the rows whose entry in
    /// <paramref name="needed"/> (m values) is not 0 are read — the positions a masked loss scores. The other rows are
    /// not needed: a backend may compute them or not (the CPU skips them and writes 0; this default computes every
    /// row). X and Y contiguous; op(W) is (k, n), stored (n, k) when <paramref name="transW"/>.
    /// </summary>
    public virtual void LinearForwardOnRows(int m, int n, int k, Tensor<T> x, Tensor<T> w, bool transW, int ldw,
        Tensor<T> bias, Tensor<T> y, Tensor<T> needed) =>
        GemmWithBias(false, transW, m, n, k, T.One, x, k, w, ldw, bias, y, n);

    /// <summary>
    /// A linear layer's input and weight gradients, as <see cref="Gemm.LinearBackward{T}"/>: dX (m, k) =
    /// dY·op(W)ᵀ + betaX·dX and dW (k, n) = Xᵀ·dY + betaW·dW, each skipped when null. X, dY, dX and dW are
    /// contiguous; W is stored (k, n), or (n, k) when <paramref name="transW"/>, with leading dimension ldw.
    /// This default runs the two GEMMs; a backend may fuse them.
    /// </summary>
    public virtual void LinearBackward(int m, int k, int n, Tensor<T> dy, Tensor<T> x, Tensor<T> w, bool transW, int ldw,
        Tensor<T>? dx, T betaX, Tensor<T>? dw, T betaW)
    {
        if (dx is not null) Gemm(false, !transW, m, k, n, T.One, dy, n, 0, w, ldw, 0, betaX, dx, k, 0, 1);
        if (dw is not null) Gemm(true, false, k, n, m, T.One, x, k, 0, dy, n, 0, betaW, dw, n, 0, 1);
    }

    // ---- fused layers --------------------------------------------------------------------------

    /// <summary>Row softmax of x (rows, cols).</summary>
    public abstract void SoftmaxForward(Tensor<T> x, Tensor<T> y, int rows, int cols);
    /// <summary>Causal row softmax of x (batch, t, t): row i sees columns ≤ i.</summary>
    public abstract void SoftmaxForwardCausal(Tensor<T> x, Tensor<T> y, int batch, int t);
    /// <summary>dx += y ⊙ (dy − Σ dy⊙y) per row.</summary>
    public abstract void SoftmaxBackward(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int rows, int cols);
    /// <summary>The causal twin of <see cref="SoftmaxBackward"/>.</summary>
    public abstract void SoftmaxBackwardCausal(Tensor<T> y, Tensor<T> dy, Tensor<T> dx, int batch, int t);

    /// <summary>LayerNorm over rows of x (n, d); saves mean and 1/σ per row (n).</summary>
    public abstract void LayerNormForward(Tensor<T> x, Tensor<T> w, Tensor<T> b, Tensor<T> y, Tensor<T> mean, Tensor<T> rstd, int n, int d, T eps);
    /// <summary>
    /// <see cref="LayerNormForward"/> where only the rows whose entry in <paramref name="needed"/> (n values) is not 0 are
    /// read: the others may be computed or not (the CPU writes 0 to their y, mean and rstd, which gives them a zero
    /// gradient; this default computes every row).
    /// </summary>
    public virtual void LayerNormForwardOnRows(Tensor<T> x, Tensor<T> w, Tensor<T> b, Tensor<T> y, Tensor<T> mean, Tensor<T> rstd, int n, int d, T eps, Tensor<T> needed) =>
        LayerNormForward(x, w, b, y, mean, rstd, n, d, eps);
    /// <summary>Accumulates dx, dw, db of <see cref="LayerNormForward"/>; dx is overwritten instead when !<paramref name="accumulateDx"/>.</summary>
    public abstract void LayerNormBackward(Tensor<T> dy, Tensor<T> x, Tensor<T> w, Tensor<T> mean, Tensor<T> rstd, Tensor<T> dx, Tensor<T> dw, Tensor<T> db, int n, int d, bool accumulateDx);

    /// <summary>y = GELU (tanh form) of x.</summary>
    public abstract void GeluForward(Tensor<T> x, Tensor<T> y);
    /// <summary>dx += GELU'(x)·dy, or dx = GELU'(x)·dy when !<paramref name="accumulate"/>.</summary>
    public abstract void GeluBackward(Tensor<T> x, Tensor<T> dy, Tensor<T> dx, bool accumulate);

    /// <summary>
    /// True when a GELU that will be differentiated should keep tanh(u) from forward to backward
    /// (<see cref="GeluForward(Tensor{T}, Tensor{T}, Tensor{T})"/>): on a CPU the tanh is most of GELU's cost, on a GPU
    /// computing it again is cheaper than the memory. False by default.
    /// </summary>
    public virtual bool GeluKeepsTanh => false;
    /// <summary>y = GELU of x, keeping tanh(u) in <paramref name="tanh"/> (x's shape). The default ignores tanh.</summary>
    public virtual void GeluForward(Tensor<T> x, Tensor<T> y, Tensor<T> tanh) => GeluForward(x, y);
    /// <summary><see cref="GeluBackward(Tensor{T}, Tensor{T}, Tensor{T}, bool)"/> from the tanh its forward kept. The default computes it again.</summary>
    public virtual void GeluBackward(Tensor<T> x, Tensor<T> tanh, Tensor<T> dy, Tensor<T> dx, bool accumulate) => GeluBackward(x, dy, dx, accumulate);

    /// <summary>y[i, :] = table[ids[i], :] for table (vocab, d).</summary>
    public abstract void EmbeddingGather(Tensor<int> ids, Tensor<T> table, Tensor<T> y, int vocab, int d);
    /// <summary>dTable[ids[i], :] += dy[i, :].</summary>
    public abstract void EmbeddingScatterAdd(Tensor<int> ids, Tensor<T> dy, Tensor<T> dTable, int vocab, int d);

    /// <summary>
    /// Masked mean cross-entropy of logits (n, vocab) against targets (n): writes softmax probabilities
    /// (n, vocab), per-row losses (n) and the mean into <paramref name="loss"/>'s first element.
    /// A null mask counts every row.
    /// </summary>
    public abstract void CrossEntropyForward(Tensor<T> logits, Tensor<int> targets, Tensor<T>? mask, Tensor<T> probs, Tensor<T> rowLoss, Tensor<T> loss, int n, int vocab);
    /// <summary>dLogits += dLoss·mask/Σmask·(probs − onehot(targets)) (= when !<paramref name="accumulate"/>), dLoss read from <paramref name="dLoss"/>'s first element.</summary>
    public abstract void CrossEntropyBackward(Tensor<T> probs, Tensor<int> targets, Tensor<T>? mask, Tensor<T> dLoss, Tensor<T> dLogits, int n, int vocab, bool accumulate);

    /// <summary>Fused causal attention forward, as <see cref="Attention.Forward{T}"/>.</summary>
    public abstract void AttentionForward(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> scores, Tensor<T> pattern, Tensor<T> z,
        int batch, int t, int heads, int dHead, T scale);
    /// <summary>Fused causal attention backward, as <see cref="Attention.Backward{T}"/>: adds to dq, dk, dv, or overwrites each whose flag is false.</summary>
    public abstract void AttentionBackward(Tensor<T> dz, Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> pattern,
        Tensor<T> dPatternScratch, Tensor<T> dScoresScratch, Tensor<T> dq, Tensor<T> dk, Tensor<T> dv, int batch, int t, int heads, int dHead, T scale,
        bool accumulateDq, bool accumulateDk, bool accumulateDv);

    // ---- optimizers ----------------------------------------------------------------------------

    /// <summary>SGD with optional momentum (null buffer: none) and coupled L2 decay, in place.</summary>
    public abstract void Sgd(Tensor<T> param, Tensor<T> grad, Tensor<T>? momentumBuf, T lr, T momentum, T weightDecay);
    /// <summary>Adam with coupled L2 decay (decoupled = AdamW), in place; <paramref name="step"/> counts from 1.</summary>
    public abstract void Adam(bool decoupled, Tensor<T> param, Tensor<T> grad, Tensor<T> m, Tensor<T> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step);

    /// <summary>
    /// <see cref="Adam"/> on every (params[i], grads[i], m[i], v[i]), with the same results as calling it
    /// tensor by tensor (which is what this does). A device overrides it to update many tensors per launch.
    /// </summary>
    public virtual void AdamMany(bool decoupled, ReadOnlySpan<Tensor<T>> parameters, ReadOnlySpan<Tensor<T>> grads, ReadOnlySpan<Tensor<T>> m,
        ReadOnlySpan<Tensor<T>> v, T lr, T beta1, T beta2, T eps, T weightDecay, int step)
    {
        if (grads.Length != parameters.Length || m.Length != parameters.Length || v.Length != parameters.Length)
            throw new ArgumentException($"AdamMany: {parameters.Length} parameters, {grads.Length} gradients, {m.Length} and {v.Length} moment buffers");
        for (int i = 0; i < parameters.Length; i++) Adam(decoupled, parameters[i], grads[i], m[i], v[i], lr, beta1, beta2, eps, weightDecay, step);
    }
}
