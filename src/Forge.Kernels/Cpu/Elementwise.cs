using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Element-wise kernels: unary maps, scaling, axpy and fill over contiguous spans (this file);
/// broadcasting binary operations (ElementwiseBinary.cs); strided copies, strided accumulation and
/// the gradient of broadcasting (ElementwiseStrided.cs). The scalar reference versions are in
/// <see cref="ElementwiseReference"/>.
/// <para>
/// Contiguous work goes through <see cref="TensorPrimitives"/> (vectorised, Vector512 where the CPU
/// has it), split into fixed-size chunks that run on <see cref="ForkJoin"/> when the span is long.
/// Outputs may be the same span as an input (in place), but must not partially overlap one.
/// </para>
/// </summary>
public static unsafe partial class Elementwise
{
    /// <summary>y = op(x) element-wise. x and y are (n).</summary>
    public static void Unary<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Elementwise.Unary", nameof(y), y.Length, x.Length, "x.Length");
        if ((uint)op > (uint)UnaryOp.Reciprocal)
            throw new ArgumentOutOfRangeException(nameof(op), op, "Elementwise.Unary: unknown operation.");
        RunFlat(FlatKind.Unary, op, T.Zero, x, y);
    }

    /// <summary>y = alpha · x. x and y are (n).</summary>
    public static void Scale<T>(ReadOnlySpan<T> x, T alpha, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Elementwise.Scale", nameof(y), y.Length, x.Length, "x.Length");
        RunFlat(FlatKind.Scale, default, alpha, x, y);
    }

    /// <summary>y += alpha · x (BLAS axpy). x and y are (n).</summary>
    public static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Elementwise.Axpy", nameof(y), y.Length, x.Length, "x.Length");
        RunFlat(FlatKind.Axpy, default, alpha, x, y);
    }

    /// <summary>y[i] = value for every element of y.</summary>
    public static void Fill<T>(Span<T> y, T value) where T : unmanaged, IFloatingPointIeee754<T> => y.Fill(value);

    enum FlatKind { Unary, Scale, Axpy }

    /// <summary>Arguments of a contiguous element-wise kernel, passed to worker threads by pointer.</summary>
    struct FlatState<T> where T : unmanaged
    {
        public FlatKind Kind;
        public UnaryOp Op;
        public T Alpha;
        public T* X;
        public T* Y;
        public int Length;
    }

    static void RunFlat<T>(FlatKind kind, UnaryOp op, T alpha, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return;
        fixed (T* px = x, py = y)
        {
            var state = new FlatState<T> { Kind = kind, Op = op, Alpha = alpha, X = px, Y = py, Length = x.Length };
            int chunks = ParallelWork.ChunkCount(x.Length);
            ForkJoin.For(chunks, &state, &FlatChunks<T>, ParallelWork.MinBlock(chunks, ParallelWork.ChunkLength));
        }
    }

    /// <summary>Runs chunks [begin, end): one contiguous stretch of the span.</summary>
    static void FlatChunks<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var state = (FlatState<T>*)statePointer;
        int start = begin * ParallelWork.ChunkLength;
        int length = (int)Math.Min((long)end * ParallelWork.ChunkLength, state->Length) - start;
        var x = new ReadOnlySpan<T>(state->X + start, length);
        var y = new Span<T>(state->Y + start, length);
        switch (state->Kind)
        {
            case FlatKind.Unary: UnarySpan(state->Op, x, y); break;
            case FlatKind.Scale: TensorPrimitives.Multiply(x, state->Alpha, y); break;
            default: TensorPrimitives.MultiplyAdd(x, state->Alpha, y, y); break;
        }
    }

    static void UnarySpan<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            default: TensorPrimitives.Reciprocal(x, y); break; // UnaryOp.Reciprocal (op was checked)
        }
    }
}
