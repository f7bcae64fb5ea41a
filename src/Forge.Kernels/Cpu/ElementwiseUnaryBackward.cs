using System.Numerics;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

public static unsafe partial class Elementwise
{
    /// <summary>
    /// Gradient of <see cref="Unary{T}"/>: dx += dy ⊙ op′, where x is the forward input and y its
    /// output (each rule uses whichever is cheaper). x, y, dy and dx are (n).
    /// <code>
    /// Neg: −dy          Exp: dy·y           Log: dy/x           Sqrt: dy/(2y)    Square: dy·2x
    /// Tanh: dy·(1 − y²)  Relu: x &gt; 0 ? dy : 0   Abs: dy·sign(x) (0 at 0)   Reciprocal: −dy·y²
    /// </code>
    /// </summary>
    public static void UnaryBackward<T>(UnaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Elementwise.UnaryBackward";
        Check.AtLeast(kernel, nameof(y), y.Length, x.Length, "x.Length");
        Check.AtLeast(kernel, nameof(dy), dy.Length, x.Length, "x.Length");
        Check.AtLeast(kernel, nameof(dx), dx.Length, x.Length, "x.Length");
        if ((uint)op > (uint)UnaryOp.Reciprocal) throw new ArgumentOutOfRangeException(nameof(op), op, $"{kernel}: unknown operation.");
        if (x.IsEmpty) return;
        fixed (T* px = x, py = y, pdy = dy, pdx = dx)
        {
            var state = new GradientState<T> { Op = op, X = px, Y = py, DY = pdy, DX = pdx, Length = x.Length };
            int chunks = ParallelWork.ChunkCount(x.Length);
            ForkJoin.For(chunks, &state, &GradientChunks<T>, ParallelWork.MinBlock(chunks, ParallelWork.ChunkLength));
        }
    }

    struct GradientState<T> where T : unmanaged
    {
        public UnaryOp Op;
        public T* X, Y, DY, DX;
        public int Length;
    }

    static void GradientChunks<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (GradientState<T>*)statePointer;
        int start = begin * ParallelWork.ChunkLength;
        int n = (int)Math.Min((long)end * ParallelWork.ChunkLength, s->Length) - start;
        T* x = s->X + start, y = s->Y + start, dy = s->DY + start, dx = s->DX + start;
        switch (s->Op)
        {
            case UnaryOp.Neg: AccumulateGradient<T, NegGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Exp: AccumulateGradient<T, ExpGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Log: AccumulateGradient<T, LogGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Sqrt: AccumulateGradient<T, SqrtGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Square: AccumulateGradient<T, SquareGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Tanh: AccumulateGradient<T, TanhGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Relu: AccumulateGradient<T, ReluGradient<T>>(x, y, dy, dx, n); break;
            case UnaryOp.Abs: AccumulateGradient<T, AbsGradient<T>>(x, y, dy, dx, n); break;
            default: AccumulateGradient<T, ReciprocalGradient<T>>(x, y, dy, dx, n); break;
        }
    }

    /// <summary>dx[i] += TRule(x[i], y[i], dy[i]), vectorised.</summary>
    static void AccumulateGradient<T, TRule>(T* x, T* y, T* dy, T* dx, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : IUnaryGradient<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                (Vector256.Load(dx + i) + TRule.Apply(Vector256.Load(x + i), Vector256.Load(y + i), Vector256.Load(dy + i))).Store(dx + i);
        for (; i < n; i++) dx[i] += TRule.Apply(x[i], y[i], dy[i]);
    }

    /// <summary>The chain-rule term dy·f′ of one unary op, from its input x and output y.</summary>
    interface IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        static abstract T Apply(T x, T y, T dy);
        static abstract Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy);
    }

    readonly struct NegGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => -dy;
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => -dy;
    }

    readonly struct ExpGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => dy * y;
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => dy * y;
    }

    readonly struct LogGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => dy / x;
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => dy / x;
    }

    readonly struct SqrtGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => dy / (y + y);
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => dy / (y + y);
    }

    readonly struct SquareGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => dy * (x + x);
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => dy * (x + x);
    }

    readonly struct TanhGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => dy * (T.One - y * y);
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => dy * (Vector256<T>.One - y * y);
    }

    readonly struct ReluGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => x > T.Zero ? dy : T.Zero;
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy, Vector256<T>.Zero);
    }

    readonly struct AbsGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => x > T.Zero ? dy : x < T.Zero ? -dy : T.Zero;
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), dy,
                Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -dy, Vector256<T>.Zero));
    }

    readonly struct ReciprocalGradient<T> : IUnaryGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T x, T y, T dy) => -dy * (y * y);
        public static Vector256<T> Apply(Vector256<T> x, Vector256<T> y, Vector256<T> dy) => -dy * (y * y);
    }
}
