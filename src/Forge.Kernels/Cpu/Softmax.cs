using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Softmax over the rows of a (rows, cols) contiguous matrix, and the causal variant for attention
/// scores. Reference versions: <see cref="SoftmaxReference"/>.
/// <para>
/// Numerically stable: each row is shifted by its maximum before exponentiating, so logits of any
/// magnitude give finite probabilities (the largest entry becomes e⁰ = 1, the sum is ≥ 1). Rows run
/// in parallel on <see cref="ForkJoin"/> when the matrix is large; each row is a few vectorised
/// passes (max, subtract, exp, sum, divide) that stay in L1 for rows up to a few thousand columns.
/// </para>
/// </summary>
public static unsafe class Softmax
{
    /// <summary>y[r, :] = softmax(x[r, :]). x and y are (rows, cols); y may be x (in place).</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix("Softmax.Forward", "x", x.Length, "y", y.Length, rows, cols);
        Run(x, default, y, rows, cols, causalT: 0, &ForwardRows<T>);
    }

    /// <summary>
    /// Causal softmax of attention scores: x and y are (batch, t, t); row i of each (t, t) block is
    /// the softmax of its columns 0..i, and its columns i+1.. are exactly 0 in y (whatever x holds
    /// there). y may be x (in place).
    /// </summary>
    public static void ForwardCausal<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckCausal("Softmax.ForwardCausal", batch, t);
        CheckMatrix("Softmax.ForwardCausal", "x", x.Length, "y", y.Length, batch * t, t);
        Run(x, default, y, batch * t, t, causalT: t, &ForwardRows<T>);
    }

    /// <summary>
    /// Gradient of softmax: dx += y ⊙ (dy − Σ_j dy_j·y_j) per row, from the forward output y.
    /// y, dy and dx are (rows, cols). Also correct for causal softmax (masked y entries are 0).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix("Softmax.Backward", "y", y.Length, "dx", dx.Length, rows, cols);
        Check.AtLeast("Softmax.Backward", nameof(dy), dy.Length, (long)rows * cols, "rows·cols");
        Run(y, dy, dx, rows, cols, causalT: 0, &BackwardRows<T>);
    }

    /// <summary>
    /// <see cref="Backward{T}"/> for the output of <see cref="ForwardCausal{T}"/>: y, dy, dx are
    /// (batch, t, t); only columns 0..i of row i are touched (the rest of dx gets nothing), so it
    /// does about half the work.
    /// </summary>
    public static void BackwardCausal<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int batch, int t)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckCausal("Softmax.BackwardCausal", batch, t);
        CheckMatrix("Softmax.BackwardCausal", "y", y.Length, "dx", dx.Length, batch * t, t);
        Check.AtLeast("Softmax.BackwardCausal", nameof(dy), dy.Length, (long)batch * t * t, "batch·t·t");
        Run(y, dy, dx, batch * t, t, causalT: t, &BackwardRows<T>);
    }

    static void CheckCausal(string kernel, int batch, int t)
    {
        Check.NonNegative(kernel, nameof(batch), batch);
        Check.NonNegative(kernel, nameof(t), t);
    }

    static void CheckMatrix(string kernel, string inName, int inLength, string outName, int outLength, int rows, int cols)
    {
        Check.NonNegative(kernel, nameof(rows), rows);
        Check.NonNegative(kernel, nameof(cols), cols);
        Check.AtLeast(kernel, inName, inLength, (long)rows * cols, "rows·cols");
        Check.AtLeast(kernel, outName, outLength, (long)rows * cols, "rows·cols");
    }

    /// <summary>Row kernel arguments. <see cref="CausalT"/> = 0 means full rows; otherwise row r sees (r mod CausalT) + 1 columns.</summary>
    struct RowState<T> where T : unmanaged
    {
        public T* In, Grad, Out;
        public int Cols, CausalT;
    }

    static void Run<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> grad, Span<T> output, int rows, int cols, int causalT,
        delegate*<void*, int, int, void> body) where T : unmanaged
    {
        if ((long)rows * cols == 0) return;
        fixed (T* pIn = input, pGrad = grad, pOut = output)
        {
            var state = new RowState<T> { In = pIn, Grad = pGrad, Out = pOut, Cols = cols, CausalT = causalT };
            ForkJoin.For(rows, &state, body, ParallelWork.MinBlock(rows, cols));
        }
    }

    static void ForwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (RowState<T>*)statePointer;
        for (int row = begin; row < end; row++)
        {
            long start = (long)row * s->Cols;
            int seen = s->CausalT == 0 ? s->Cols : row % s->CausalT + 1;
            var y = new Span<T>(s->Out + start, s->Cols);
            SoftmaxRow(new ReadOnlySpan<T>(s->In + start, seen), y[..seen], out _);
            y[seen..].Clear();
        }
    }

    /// <summary>
    /// y = exp(x − max) / Σ exp(x − max) for one row (y may be x), max = max x. Returns
    /// Σ exp(x − max) (≥ 1), from which CrossEntropy gets log-sum-exp = max + log Σ.
    /// </summary>
    internal static T SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, out T max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        T sum = TensorPrimitives.Sum<T>(y);
        TensorPrimitives.Divide(y, sum, y);
        return sum;
    }

    static void BackwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (RowState<T>*)statePointer;
        for (int row = begin; row < end; row++)
        {
            long start = (long)row * s->Cols;
            int seen = s->CausalT == 0 ? s->Cols : row % s->CausalT + 1;
            T* y = s->In + start, dy = s->Grad + start, dx = s->Out + start;
            T dot = TensorPrimitives.Dot(new ReadOnlySpan<T>(y, seen), new ReadOnlySpan<T>(dy, seen));
            AccumulateShiftedProduct(y, dy, dot, dx, seen);
        }
    }

    /// <summary>dx[i] += y[i]·(dy[i] − shift), in the same operation order as the reference.</summary>
    static void AccumulateShiftedProduct<T>(T* y, T* dy, T shift, T* dx, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var shiftVector = Vector256.Create(shift);
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                (Vector256.Load(dx + i) + Vector256.Load(y + i) * (Vector256.Load(dy + i) - shiftVector)).Store(dx + i);
        }
        for (; i < n; i++) dx[i] += y[i] * (dy[i] - shift);
    }
}
