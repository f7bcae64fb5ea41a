using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// GELU, tanh approximation (GPT-2's <c>gelu_new</c>, PyTorch's <c>gelu(approximate='tanh')</c>):
/// gelu(x) = ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³). Reference versions:
/// <see cref="GeluReference"/>.
/// <para>
/// Each chunk is processed in small blocks: a vector loop writes u to a stack buffer,
/// <see cref="TensorPrimitives.Tanh{T}"/> runs on it, and a second vector loop combines. Chunks run
/// in parallel for long inputs. The tanh is most of the cost, so a training pass can keep it: the forward
/// writes it to a caller's buffer and the backward reads it instead of computing it again (same bits).
/// </para>
/// </summary>
public static unsafe class Gelu
{
    /// <summary>Elements per stack block (fits L1 next to the inputs, 2 KiB of doubles).</summary>
    const int Block = 256;

    internal const double Coefficient = 0.044715;
    internal const double SqrtTwoOverPi = 0.7978845608028654;

    /// <summary>y = gelu(x). x and y are (n); y may be x.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Gelu.Forward", nameof(y), y.Length, x.Length, "x.Length");
        Run(x, default, y, x.Length, &ForwardChunks<T>);
    }

    /// <summary>
    /// y = gelu(x), also keeping tanh(u) of every element in <paramref name="tanh"/> (n) for
    /// <see cref="Backward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/>: the tanh is most of
    /// GELU's cost on a CPU, so the backward pass then skips it. y may be x; tanh must be neither.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, Span<T> tanh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Gelu.Forward", nameof(y), y.Length, x.Length, "x.Length");
        Check.AtLeast("Gelu.Forward", nameof(tanh), tanh.Length, x.Length, "x.Length");
        Run(x, default, y, x.Length, &ForwardChunks<T>, tanh: tanh);
    }

    /// <summary>
    /// dx += dy · gelu′(x), gelu′(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²);
    /// with <paramref name="accumulate"/> false, dx = dy · gelu′(x) (dx's old contents, even NaN, are never read).
    /// x, dy and dx are (n).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate = true) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Gelu.Backward", nameof(dy), dy.Length, x.Length, "x.Length");
        Check.AtLeast("Gelu.Backward", nameof(dx), dx.Length, x.Length, "x.Length");
        Run(x, dy, dx, x.Length, &BackwardChunks<T>, accumulate);
    }

    /// <summary>
    /// As <see cref="Backward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/>, with tanh(u) taken from
    /// <paramref name="tanh"/> as the forward pass saved it instead of computed again: the same bits, without the tanh.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> tanh, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast("Gelu.Backward", nameof(tanh), tanh.Length, x.Length, "x.Length");
        Check.AtLeast("Gelu.Backward", nameof(dy), dy.Length, x.Length, "x.Length");
        Check.AtLeast("Gelu.Backward", nameof(dx), dx.Length, x.Length, "x.Length");
        Run(x, dy, dx, x.Length, &BackwardChunks<T>, accumulate, tanh: tanh);
    }

    struct State<T> where T : unmanaged
    {
        public T* X, DY, Out;
        public T* Tanh;   // saved tanh(u): written by the forward pass, read by the backward pass; null when not kept
        public int Length;
        public bool Accumulate;
    }

    static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> output, int length, delegate*<void*, int, int, void> body,
        bool accumulate = false, ReadOnlySpan<T> tanh = default) where T : unmanaged   // tanh: written by the forward body, read by the backward one
    {
        if (length == 0) return;
        fixed (T* px = x, pdy = dy, pOut = output, pTanh = tanh)
        {
            var state = new State<T> { X = px, DY = pdy, Out = pOut, Tanh = pTanh, Length = length, Accumulate = accumulate };
            int chunks = ParallelWork.ChunkCount(length);
            ForkJoin.For(chunks, &state, body, ParallelWork.MinBlock(chunks, ParallelWork.ChunkLength));
        }
    }

    static void ForwardChunks<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        T* tanh = stackalloc T[Block];
        int stop = (int)Math.Min((long)end * ParallelWork.ChunkLength, s->Length);
        for (int start = begin * ParallelWork.ChunkLength; start < stop; start += Block)
        {
            int n = Math.Min(Block, stop - start);
            T* t = s->Tanh == null ? tanh : s->Tanh + start;
            TanhOfU(s->X + start, t, n);
            CombineForward(s->X + start, t, s->Out + start, n);
        }
    }

    static void BackwardChunks<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int stop = (int)Math.Min((long)end * ParallelWork.ChunkLength, s->Length);
        if (s->Tanh != null)
        {
            int first = begin * ParallelWork.ChunkLength;
            CombineBackward(s->X + first, s->DY + first, s->Tanh + first, s->Out + first, stop - first, s->Accumulate);
            return;
        }
        T* tanh = stackalloc T[Block];
        for (int start = begin * ParallelWork.ChunkLength; start < stop; start += Block)
        {
            int n = Math.Min(Block, stop - start);
            TanhOfU(s->X + start, tanh, n);
            CombineBackward(s->X + start, s->DY + start, tanh, s->Out + start, n, s->Accumulate);
        }
    }

    /// <summary>tanh[i] = tanh(√(2/π)·(x + 0.044715·x³)).</summary>
    static void TanhOfU<T>(T* x, T* tanh, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c = T.CreateChecked(Coefficient), k = T.CreateChecked(SqrtTwoOverPi);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> cV = Vector256.Create(c), kV = Vector256.Create(k);
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
            {
                var xV = Vector256.Load(x + i);
                (kV * (xV + cV * xV * xV * xV)).Store(tanh + i);
            }
        }
        for (; i < n; i++) tanh[i] = k * (x[i] + c * x[i] * x[i] * x[i]);
        TensorPrimitives.Tanh(new ReadOnlySpan<T>(tanh, n), new Span<T>(tanh, n));
    }

    /// <summary>y = ½·x·(1 + tanh).</summary>
    static void CombineForward<T>(T* x, T* tanh, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T half = T.CreateChecked(0.5);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> halfV = Vector256.Create(half), oneV = Vector256<T>.One;
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
                (halfV * Vector256.Load(x + i) * (oneV + Vector256.Load(tanh + i))).Store(y + i);
        }
        for (; i < n; i++) y[i] = half * x[i] * (T.One + tanh[i]);
    }

    /// <summary>dx (+)= dy·(½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)): adds when <paramref name="accumulate"/>, else overwrites.</summary>
    static void CombineBackward<T>(T* x, T* dy, T* tanh, T* dx, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T half = T.CreateChecked(0.5), k = T.CreateChecked(SqrtTwoOverPi), c3 = T.CreateChecked(3 * Coefficient);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> halfV = Vector256.Create(half), kV = Vector256.Create(k), c3V = Vector256.Create(c3), oneV = Vector256<T>.One;
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
            {
                Vector256<T> xV = Vector256.Load(x + i), t = Vector256.Load(tanh + i);
                var local = halfV * (oneV + t) + halfV * xV * (oneV - t * t) * kV * (oneV + c3V * xV * xV);
                var contribution = Vector256.Load(dy + i) * local;
                (accumulate ? Vector256.Load(dx + i) + contribution : contribution).Store(dx + i);
            }
        }
        for (; i < n; i++)
        {
            T t = tanh[i];
            T local = half * (T.One + t) + half * x[i] * (T.One - t * t) * k * (T.One + c3 * x[i] * x[i]);
            dx[i] = accumulate ? dx[i] + dy[i] * local : dy[i] * local;
        }
    }
}
