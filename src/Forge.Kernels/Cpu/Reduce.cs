using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Reductions along one axis of a contiguous tensor viewed as (outer, axis, inner), plus whole-tensor
/// sums. Reference versions: <see cref="ReduceReference"/>.
/// <para>
/// Work items are (outer index, block of <see cref="InnerBlock"/> inner columns); each output element
/// is summed by one thread in a fixed order, so results do not depend on the thread count. With
/// inner &gt; 1 the columns are summed in SIMD registers while walking the axis (x is read once, y
/// written once); with inner = 1 each row is one <see cref="TensorPrimitives.Sum{T}"/>.
/// </para>
/// </summary>
public static unsafe class Reduce
{
    /// <summary>Inner columns per work item.</summary>
    const int InnerBlock = 256;

    /// <summary>y[o, i] = Σ_k x[o, k, i]. x is (outer, axis, inner), y is (outer, inner); y is overwritten.</summary>
    public static void Sum<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        SumCore(x, outer, axis, inner, y, accumulate: false);

    /// <summary>y[o, i] = (1/axis) Σ_k x[o, k, i]. x is (outer, axis, inner), y is (outer, inner). axis = 0 gives NaN.</summary>
    public static void Mean<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        SumCore(x, outer, axis, inner, y, accumulate: false);
        TensorPrimitives.Divide(y[..(outer * inner)], T.CreateChecked(axis), y);
    }

    /// <summary>
    /// y[o, i] = max_k x[o, k, i] and argmax[o, i] = the k where it occurs. x is (outer, axis, inner);
    /// y and argmax are (outer, inner). Ties give the first k; a NaN wins (the first NaN); +0 beats −0
    /// (IEEE 754 maximum, as <see cref="TensorPrimitives.IndexOfMax{T}"/>). axis must be ≥ 1.
    /// </summary>
    public static void Max<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Reduce.Max";
        CheckAxisArguments(kernel, x.Length, outer, axis, inner, y.Length);
        Check.AtLeast(kernel, nameof(argmax), argmax.Length, (long)outer * inner, "outer·inner");
        if (axis == 0 && (long)outer * inner > 0)
            throw new ArgumentException($"{kernel}: axis is 0; the maximum of an empty axis is undefined.", nameof(axis));
        fixed (T* px = x, py = y)
        fixed (int* pArgmax = argmax)
        {
            var state = new AxisState<T> { X = px, Y = py, Argmax = pArgmax, Axis = axis, Inner = inner };
            Run(ref state, outer, &MaxItems<T>);
        }
    }

    /// <summary>Σ x over the whole span (vectorised; summation order differs from a sequential loop).</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sum(x);

    /// <summary>
    /// Σ x² over the whole span, accumulated in double (per-chunk vector sums added in double), for
    /// gradient-norm clipping: ‖g‖ = √(Σ over parameters of SumOfSquares(g)).
    /// </summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int chunk = 4096;
        double total = 0;
        for (int start = 0; start < x.Length; start += chunk)
            total += double.CreateChecked(TensorPrimitives.SumOfSquares(x.Slice(start, Math.Min(chunk, x.Length - start))));
        return total;
    }

    /// <summary>Sum over the axis, overwriting y or (accumulate) adding to it. Shared with ReduceBroadcast.</summary>
    internal static void SumCore<T>(ReadOnlySpan<T> x, int outer, int axis, int inner, Span<T> y, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckAxisArguments(accumulate ? "Elementwise.ReduceBroadcast" : "Reduce.Sum", x.Length, outer, axis, inner, y.Length);
        fixed (T* px = x, py = y)
        {
            var state = new AxisState<T> { X = px, Y = py, Axis = axis, Inner = inner, Accumulate = accumulate };
            Run(ref state, outer, &SumItems<T>);
        }
    }

    static void CheckAxisArguments(string kernel, int xLength, int outer, int axis, int inner, int yLength)
    {
        Check.NonNegative(kernel, nameof(outer), outer);
        Check.NonNegative(kernel, nameof(axis), axis);
        Check.NonNegative(kernel, nameof(inner), inner);
        Check.AtLeast(kernel, "x", xLength, (long)outer * axis * inner, "outer·axis·inner");
        Check.AtLeast(kernel, "y", yLength, (long)outer * inner, "outer·inner");
    }

    struct AxisState<T> where T : unmanaged
    {
        public T* X, Y;
        public int* Argmax;
        public int Axis, Inner, BlocksPerRow;
        public bool Accumulate;
    }

    static void Run<T>(ref AxisState<T> state, int outer, delegate*<void*, int, int, void> body) where T : unmanaged
    {
        if ((long)outer * state.Inner == 0) return;
        state.BlocksPerRow = (state.Inner + InnerBlock - 1) / InnerBlock;
        int items = outer * state.BlocksPerRow;
        long itemElements = (long)state.Axis * Math.Min(state.Inner, InnerBlock);
        fixed (AxisState<T>* pState = &state)
            ForkJoin.For(items, pState, body, ParallelWork.MinBlock(items, itemElements));
    }

    static void SumItems<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (AxisState<T>*)statePointer;
        int axis = s->Axis, inner = s->Inner;
        for (int item = begin; item < end; item++)
        {
            int o = item / s->BlocksPerRow, column = (item - o * s->BlocksPerRow) * InnerBlock;
            T* x = s->X + (long)o * axis * inner + column;
            T* y = s->Y + (long)o * inner + column;
            if (inner == 1)
            {
                T rowSum = TensorPrimitives.Sum(new ReadOnlySpan<T>(x, axis));
                *y = s->Accumulate ? *y + rowSum : rowSum;
            }
            else SumColumns(x, axis, inner, y, Math.Min(InnerBlock, inner - column), s->Accumulate);
        }
    }

    /// <summary>
    /// y[c] (+)= Σ_k x[k·inner + c] for c &lt; columns, four vectors of columns at a time held in
    /// registers across the whole axis.
    /// </summary>
    static void SumColumns<T>(T* x, int axis, int inner, T* y, int columns, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            int w = Vector256<T>.Count;
            for (; c + 4 * w <= columns; c += 4 * w)
            {
                Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
                T* p = x + c;
                for (int k = 0; k < axis; k++, p += inner)
                {
                    s0 += Vector256.Load(p);
                    s1 += Vector256.Load(p + w);
                    s2 += Vector256.Load(p + 2 * w);
                    s3 += Vector256.Load(p + 3 * w);
                }
                StoreSum(y + c, s0, accumulate);
                StoreSum(y + c + w, s1, accumulate);
                StoreSum(y + c + 2 * w, s2, accumulate);
                StoreSum(y + c + 3 * w, s3, accumulate);
            }
            for (; c + w <= columns; c += w)
            {
                Vector256<T> s0 = default;
                T* p = x + c;
                for (int k = 0; k < axis; k++, p += inner) s0 += Vector256.Load(p);
                StoreSum(y + c, s0, accumulate);
            }
        }
        for (; c < columns; c++)
        {
            T sum = T.Zero;
            T* p = x + c;
            for (int k = 0; k < axis; k++, p += inner) sum += *p;
            y[c] = accumulate ? y[c] + sum : sum;
        }
    }

    static void StoreSum<T>(T* y, Vector256<T> sum, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T> =>
        (accumulate ? Vector256.Load(y) + sum : sum).Store(y);

    static void MaxItems<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (AxisState<T>*)statePointer;
        int axis = s->Axis, inner = s->Inner;
        for (int item = begin; item < end; item++)
        {
            int o = item / s->BlocksPerRow, column = (item - o * s->BlocksPerRow) * InnerBlock;
            T* x = s->X + (long)o * axis * inner + column;
            T* y = s->Y + (long)o * inner + column;
            int* argmax = s->Argmax + (long)o * inner + column;
            if (inner == 1)
            {
                int k = TensorPrimitives.IndexOfMax(new ReadOnlySpan<T>(x, axis));
                *y = x[k];
                *argmax = k;
                continue;
            }
            // Walk the axis in memory order, keeping the running maximum of each column in y.
            int columns = Math.Min(InnerBlock, inner - column);
            for (int c = 0; c < columns; c++) { y[c] = x[c]; argmax[c] = 0; }
            for (int k = 1; k < axis; k++)
            {
                T* row = x + (long)k * inner;
                for (int c = 0; c < columns; c++)
                    if (IsGreater(row[c], y[c])) { y[c] = row[c]; argmax[c] = k; }
            }
        }
    }

    /// <summary>Whether a later candidate replaces the running maximum under IEEE 754 maximum with first-wins ties.</summary>
    internal static bool IsGreater<T>(T candidate, T best) where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(best)) return false;
        if (T.IsNaN(candidate)) return true;
        if (candidate != best) return candidate > best;
        return T.IsZero(candidate) && T.IsNegative(best) && !T.IsNegative(candidate);
    }
}
