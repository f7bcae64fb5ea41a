using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Reductions on an ILGPU device, with the contracts of <see cref="Reduce"/>: along one axis of a
/// contiguous tensor viewed as (outer, axis, inner), and over a whole view. Each output is computed by
/// one thread (inner &gt; 1: consecutive threads read consecutive columns) or one group (inner = 1:
/// a row reduction); whole-view sums are two passes of group reductions (partial sums per group,
/// then one group over the partials). Whole-view results go to a one-element view, not the host.
/// </summary>
public static class IlgpuReduce
{
    /// <summary>Groups of the first pass of a whole-view sum (and so the partial sums the second pass adds).</summary>
    internal const int MaxPartials = 256;

    /// <summary>y[o, i] = Σ_k x[o, k, i]. x is (outer, axis, inner), y is (outer, inner) and overwritten.</summary>
    public static void Sum<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, int outer, int axis, int inner,
        ArrayView1D<T, Stride1D.Dense> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        AxisSum(backend, "IlgpuReduce.Sum", x, outer, axis, inner, y, mean: false);

    /// <summary>y[o, i] = (1/axis) Σ_k x[o, k, i]. axis = 0 gives NaN.</summary>
    public static void Mean<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, int outer, int axis, int inner,
        ArrayView1D<T, Stride1D.Dense> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        AxisSum(backend, "IlgpuReduce.Mean", x, outer, axis, inner, y, mean: true);

    /// <summary>
    /// y[o, i] = max_k x[o, k, i], argmax[o, i] = its k (first of ties; a NaN wins; +0 beats −0), as
    /// <see cref="Reduce.Max{T}"/>. axis must be ≥ 1.
    /// </summary>
    public static void Max<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, int outer, int axis, int inner,
        ArrayView1D<T, Stride1D.Dense> y, ArrayView1D<int, Stride1D.Dense> argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuReduce.Max";
        CheckAxis(kernel, x, outer, axis, inner, y);
        Check.AtLeast(kernel, nameof(argmax), Views.Length(argmax), (long)outer * inner, "outer·inner");
        if (axis == 0 && (long)outer * inner > 0)
            throw new ArgumentException($"{kernel}: axis is 0; the maximum of an empty axis is undefined.", nameof(axis));
        Views.CheckType<T>(backend, kernel);
        long outputs = (long)outer * inner;
        if (outputs == 0) return;
        var args = new ReduceArgs<T> { X = x, Y = y, Argmax = argmax, Outer = outer, Axis = axis, Inner = inner };
        backend.Kernels<Kernels<T>>().MaxColumn(backend.Stream, checked((int)outputs), args);
    }

    /// <summary>result[0] = Σ x over the whole view.</summary>
    public static void SumAll<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> result)
        where T : unmanaged, IFloatingPointIeee754<T> => Whole(backend, "IlgpuReduce.SumAll", x, result, square: false);

    /// <summary>
    /// result[0] = Σ x² over the whole view, for gradient-norm clipping. Accumulated in T by a pairwise
    /// tree (the CPU version accumulates in double): generic math cannot convert T to double inside a
    /// kernel, and tree sums stay accurate anyway.
    /// </summary>
    public static void SumOfSquares<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> result)
        where T : unmanaged, IFloatingPointIeee754<T> => Whole(backend, "IlgpuReduce.SumOfSquares", x, result, square: true);

    static void AxisSum<T>(IlgpuBackend backend, string kernel, ArrayView1D<T, Stride1D.Dense> x, int outer, int axis, int inner,
        ArrayView1D<T, Stride1D.Dense> y, bool mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckAxis(kernel, x, outer, axis, inner, y);
        Views.CheckType<T>(backend, kernel);
        long outputs = (long)outer * inner;
        if (outputs == 0) return;
        var args = new ReduceArgs<T>
        {
            X = x, Y = y, Outer = outer, Axis = axis, Inner = inner, Mean = mean ? 1 : 0, AxisLength = T.CreateChecked(axis),
        };
        var kernels = backend.Kernels<Kernels<T>>();
        if (inner == 1)
        {
            kernels.SumRow(backend.Stream, new KernelConfig(outer, backend.RowGroupSize), args);
            return;
        }
        // Few outputs and a long axis: cut the axis into ranges, add the range sums in order.
        var (splits, chunk) = Views.SplitLoop(outputs, axis, Views.ParallelThreads(backend), minChunk: 32);
        if (splits == 1)
        {
            kernels.SumColumn(backend.Stream, checked((int)outputs), args);
            return;
        }
        var partials = backend.Pool.Rent<T>(outputs * splits);
        args.Partials = partials.View;
        args.Splits = splits;
        args.Chunk = chunk;
        kernels.SumColumnPartial(backend.Stream, checked((int)(outputs * splits)), args);
        kernels.SumColumnSplits(backend.Stream, checked((int)outputs), args);
        backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
    }

    /// <summary>How many groups a whole-tensor sum of <paramref name="length"/> elements uses (1: no second pass).</summary>
    internal static int WholeSumGroups(IlgpuBackend backend, long length) => (int)Math.Clamp(Views.GroupsFor(length, backend.RowGroupSize), 1, MaxPartials);

    static void Whole<T>(IlgpuBackend backend, string kernel, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> result,
        bool square) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check.AtLeast(kernel, nameof(result), Views.Length(result), 1, "one element for the sum");
        Views.CheckType<T>(backend, kernel);
        int groups = WholeSumGroups(backend, x.Length);
        var kernels = backend.Kernels<Kernels<T>>();
        if (groups == 1)
        {
            // One group's sum is the whole sum: it goes straight to the result, no second launch (clipping asks
            // this of every bias and LayerNorm vector). The second pass would only have added zeros to it.
            var single = new ReduceArgs<T> { X = x, Y = result, Partials = result.SubView(0, 1), Square = square ? 1 : 0 };
            kernels.PartialSums(backend.Stream, new KernelConfig(1, backend.RowGroupSize), single);
            return;
        }
        var partials = backend.Pool.Rent<T>(groups);
        var args = new ReduceArgs<T> { X = x, Y = result, Partials = partials.View, Square = square ? 1 : 0 };
        kernels.PartialSums(backend.Stream, new KernelConfig(groups, backend.RowGroupSize), args);
        kernels.SumPartials(backend.Stream, new KernelConfig(1, backend.RowGroupSize), args);
        backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
    }

    static void CheckAxis<T>(string kernel, ArrayView1D<T, Stride1D.Dense> x, int outer, int axis, int inner, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged
    {
        Check.NonNegative(kernel, nameof(outer), outer);
        Check.NonNegative(kernel, nameof(axis), axis);
        Check.NonNegative(kernel, nameof(inner), inner);
        Check.AtLeast(kernel, nameof(x), Views.Length(x), (long)outer * axis * inner, "outer·axis·inner");
        Check.AtLeast(kernel, nameof(y), Views.Length(y), (long)outer * inner, "outer·inner");
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, ReduceArgs<T>> SumRow, PartialSums, SumPartials;
        public required Action<AcceleratorStream, Index1D, ReduceArgs<T>> SumColumn, SumColumnPartial, SumColumnSplits, MaxColumn;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            SumRow = Grouped(backend, nameof(ReduceKernels.SumRow)),
            PartialSums = Grouped(backend, nameof(ReduceKernels.PartialSums)),
            SumPartials = Grouped(backend, nameof(ReduceKernels.SumPartials)),
            SumColumn = Indexed(backend, nameof(ReduceKernels.SumColumn)),
            SumColumnPartial = Indexed(backend, nameof(ReduceKernels.SumColumnPartial)),
            SumColumnSplits = Indexed(backend, nameof(ReduceKernels.SumColumnSplits)),
            MaxColumn = KernelMethods.Indexed<T, ReduceArgs<T>>(backend, typeof(ReduceKernels), nameof(ReduceKernels.MaxColumn)),
        };

        static Action<AcceleratorStream, Index1D, ReduceArgs<T>> Indexed(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, ReduceArgs<T>>(backend, typeof(ReduceKernels), name);

        static Action<AcceleratorStream, KernelConfig, ReduceArgs<T>> Grouped(IlgpuBackend backend, string name) =>
            KernelMethods.Grouped<T, ReduceArgs<T>>(backend, typeof(ReduceKernels), name);
    }
}

/// <summary>Arguments of the reduction kernels.</summary>
internal struct ReduceArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> X, Y, Partials;
    public ArrayView1D<int, Stride1D.Dense> Argmax;
    public int Outer, Axis, Inner, Mean, Square, Splits, Chunk;   // Splits, Chunk: the axis ranges of a split column sum
    public T AxisLength;
}

/// <summary>Device code of <see cref="IlgpuReduce"/>.</summary>
internal static class ReduceKernels
{
    /// <summary>One thread per output (o, i): walks the axis in order.</summary>
    internal static void SumColumn<T>(Index1D output, ReduceArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = output / s.Inner, i = output % s.Inner;
        T sum = T.Zero;
        for (int k = 0; k < s.Axis; k++) sum += s.X[((long)o * s.Axis + k) * s.Inner + i];
        s.Y[output] = s.Mean != 0 ? sum / s.AxisLength : sum;
    }

    /// <summary>Split column sum, first pass: thread (split, output) sums axis range [split·Chunk, (split + 1)·Chunk).</summary>
    internal static void SumColumnPartial<T>(Index1D index, ReduceArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outputs = s.Outer * s.Inner, output = index % outputs, split = index / outputs;
        int o = output / s.Inner, i = output % s.Inner;
        int first = split * s.Chunk, end = s.Axis - first < s.Chunk ? s.Axis : first + s.Chunk;
        T sum = T.Zero;
        for (int k = first; k < end; k++) sum += s.X[((long)o * s.Axis + k) * s.Inner + i];
        s.Partials[index] = sum;
    }

    /// <summary>Split column sum, second pass: adds an output's range sums in order.</summary>
    internal static void SumColumnSplits<T>(Index1D output, ReduceArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outputs = (long)s.Outer * s.Inner;
        T sum = T.Zero;
        for (int split = 0; split < s.Splits; split++) sum += s.Partials[split * outputs + output];
        s.Y[output] = s.Mean != 0 ? sum / s.AxisLength : sum;
    }

    /// <summary>One group per row (inner = 1): a group reduction over the axis.</summary>
    internal static void SumRow<T, TSum, TMax>(ReduceArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX;
        T sum = T.Zero;
        for (int k = Group.IdxX; k < s.Axis; k += Group.DimX) sum += s.X[(long)row * s.Axis + k];
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        if (Group.IdxX == 0) s.Y[row] = s.Mean != 0 ? sum / s.AxisLength : sum;
    }

    /// <summary>One thread per output: the reference's IEEE-754 maximum and first-of-ties argmax.</summary>
    internal static void MaxColumn<T>(Index1D output, ReduceArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = output / s.Inner, i = output % s.Inner, best = 0;
        T bestValue = s.X[(long)o * s.Axis * s.Inner + i];
        for (int k = 1; k < s.Axis; k++)
        {
            T value = s.X[((long)o * s.Axis + k) * s.Inner + i];
            bool replaces = !T.IsNaN(bestValue)
                && (T.IsNaN(value) || value > bestValue || (value == bestValue && T.IsNegative(bestValue) && T.IsPositive(value)));
            if (!replaces) continue;
            best = k;
            bestValue = value;
        }
        s.Y[output] = bestValue;
        s.Argmax[output] = best;
    }

    /// <summary>Group g sums elements g·G + thread, stepping by the whole grid, into Partials[g].</summary>
    internal static void PartialSums<T, TSum, TMax>(ReduceArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        T sum = T.Zero;
        long step = (long)Grid.DimX * Group.DimX;
        for (long e = (long)Grid.IdxX * Group.DimX + Group.IdxX; e < s.X.Length; e += step)
        {
            T value = s.X[e];
            sum += s.Square != 0 ? value * value : value;
        }
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        if (Group.IdxX == 0) s.Partials[Grid.IdxX] = sum;
    }

    /// <summary>One group: Y[0] = Σ Partials.</summary>
    internal static void SumPartials<T, TSum, TMax>(ReduceArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        T sum = T.Zero;
        for (int g = Group.IdxX; g < s.Partials.Length; g += Group.DimX) sum += s.Partials[g];
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        if (Group.IdxX == 0) s.Y[0] = sum;
    }
}
