using System.Numerics;
using Forge.Autograd.Ops;
using Forge.Kernels;

namespace Forge.Autograd;

// The differentiable operations, as methods on Var (PyTorch's names where they exist).
public sealed partial class Var<T>
{
    public static Var<T> operator +(Var<T> a, Var<T> b) => BinaryOp<T>.Apply(BinaryOp.Add, a, b);
    public static Var<T> operator -(Var<T> a, Var<T> b) => BinaryOp<T>.Apply(BinaryOp.Sub, a, b);
    public static Var<T> operator *(Var<T> a, Var<T> b) => BinaryOp<T>.Apply(BinaryOp.Mul, a, b);
    public static Var<T> operator /(Var<T> a, Var<T> b) => BinaryOp<T>.Apply(BinaryOp.Div, a, b);
    public static Var<T> operator -(Var<T> x) => UnaryOp<T>.Apply(Kernels.UnaryOp.Neg, x);
    public static Var<T> operator *(Var<T> x, T c) => ScaleOp<T>.Apply(x, c, T.Zero);
    public static Var<T> operator *(T c, Var<T> x) => ScaleOp<T>.Apply(x, c, T.Zero);
    public static Var<T> operator +(Var<T> x, T c) => ScaleOp<T>.Apply(x, T.One, c);
    public static Var<T> operator -(Var<T> x, T c) => ScaleOp<T>.Apply(x, T.One, -c);

    public Var<T> Exp() => UnaryOp<T>.Apply(Kernels.UnaryOp.Exp, this);
    public Var<T> Log() => UnaryOp<T>.Apply(Kernels.UnaryOp.Log, this);
    public Var<T> Sqrt() => UnaryOp<T>.Apply(Kernels.UnaryOp.Sqrt, this);
    public Var<T> Square() => UnaryOp<T>.Apply(Kernels.UnaryOp.Square, this);
    public Var<T> Tanh() => UnaryOp<T>.Apply(Kernels.UnaryOp.Tanh, this);
    public Var<T> Relu() => UnaryOp<T>.Apply(Kernels.UnaryOp.Relu, this);
    public Var<T> Abs() => UnaryOp<T>.Apply(Kernels.UnaryOp.Abs, this);
    public Var<T> Reciprocal() => UnaryOp<T>.Apply(Kernels.UnaryOp.Reciprocal, this);
    /// <summary>GELU, tanh approximation (GPT-2's gelu_new).</summary>
    public Var<T> Gelu() => GeluOp<T>.Apply(this);

    /// <summary>this [..., m, k] · other [k, n] or [b…, k, n].</summary>
    public Var<T> MatMul(Var<T> other) => MatMulOp<T>.Apply(this, other);

    /// <summary>this [..., k] · weight [k, n] + bias [n], fused (nn.Linear with the weight stored [in, out]).</summary>
    public Var<T> Linear(Var<T> weight, Var<T> bias) => MatMulOp<T>.Linear(this, weight, bias);

    /// <summary>
    /// <see cref="Linear(Var{T}, Var{T})"/> of which only some rows are read: <paramref name="neededRows"/> has this
    /// tensor's leading shape (e.g. a loss mask [batch, pos]), and a row whose entry is 0 is not needed — the CPU
    /// skips it and writes 0 there, a GPU may compute it. The needed rows get the bits of the full op. Read at every
    /// replay, so it may change between steps (fill it in place).
    /// </summary>
    public Var<T> Linear(Var<T> weight, Var<T> bias, Tensor<T>? neededRows) => MatMulOp<T>.Linear(this, weight, bias, neededRows);

    public Var<T> Sum() => SumOp<T>.All(this, mean: false);
    public Var<T> Mean() => SumOp<T>.All(this, mean: true);
    public Var<T> Sum(int axis, bool keepDim = false) => SumOp<T>.Apply(this, axis, keepDim, mean: false);
    public Var<T> Mean(int axis, bool keepDim = false) => SumOp<T>.Apply(this, axis, keepDim, mean: true);
    public Var<T> Max(int axis, bool keepDim = false) => MaxOp<T>.Apply(this, axis, keepDim);

    /// <summary>Softmax over the last axis.</summary>
    public Var<T> Softmax() => SoftmaxOp<T>.Apply(this, causal: false);
    /// <summary>Softmax of [..., t, t] attention scores where query i sees keys ≤ i.</summary>
    public Var<T> CausalSoftmax() => SoftmaxOp<T>.Apply(this, causal: true);

    /// <summary>LayerNorm over the last axis with weight and bias [d].</summary>
    public Var<T> LayerNorm(Var<T> weight, Var<T> bias, double eps = 1e-5) => LayerNormOp<T>.Apply(this, weight, bias, T.CreateChecked(eps));

    /// <summary>
    /// <see cref="LayerNorm(Var{T}, Var{T}, double)"/> of which only the rows with a non-zero entry in
    /// <paramref name="neededRows"/> (this tensor's leading shape) are read; as <see cref="Linear(Var{T}, Var{T}, Tensor{T}?)"/>.
    /// </summary>
    public Var<T> LayerNorm(Var<T> weight, Var<T> bias, Tensor<T>? neededRows, double eps = 1e-5) =>
        LayerNormOp<T>.Apply(this, weight, bias, T.CreateChecked(eps), neededRows);

    /// <summary>Rows of this [vocab, d] table picked by <paramref name="ids"/> → [..., d].</summary>
    public Var<T> Embedding(Tensor<int> ids) => EmbeddingOp<T>.Apply(this, ids);

    /// <summary>Mean cross-entropy of these logits [..., vocab] against <paramref name="targets"/> [...], over positions where <paramref name="mask"/> is 1 (all if null).</summary>
    public Var<T> CrossEntropy(Tensor<int> targets, Tensor<T>? mask = null) => CrossEntropyOp<T>.Apply(this, targets, mask);

    public Var<T> Reshape(params int[] shape) => ViewOp<T>.Reshape(this, shape);
    public Var<T> Permute(params int[] order) => ViewOp<T>.Apply("Permute", this, data => data.Permute(order));
    public Var<T> Transpose(int axis0, int axis1) => ViewOp<T>.Apply("Transpose", this, data => data.Transpose(axis0, axis1));
    public Var<T> Narrow(int axis, int start, int length) => ViewOp<T>.Apply("Narrow", this, data => data.Narrow(axis, start, length));
    public Var<T> Select(int axis, int index) => ViewOp<T>.Apply("Select", this, data => data.Select(axis, index));
    public Var<T> Unsqueeze(int axis) => ViewOp<T>.Apply("Unsqueeze", this, data => data.Unsqueeze(axis));
    public Var<T> Squeeze(int axis) => ViewOp<T>.Apply("Squeeze", this, data => data.Squeeze(axis));
    public Var<T> Expand(params int[] shape) => ExpandOp<T>.Apply(this, shape);
    /// <summary>This value if its data is row-major contiguous, else a recorded contiguous copy.</summary>
    public Var<T> Contiguous() => ContiguousOp<T>.Ensure(this);
}
