using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

public static partial class IlgpuElementwise
{
    /// <summary>
    /// y = a op b with broadcasting through strides, as <see cref="Elementwise.Binary{T}"/>: operand
    /// elements a[aOffset + Σ index·aStrides] and b likewise; y is contiguous of <paramref name="shape"/>.
    /// </summary>
    public static void Binary<T>(IlgpuBackend backend, BinaryOp op, ReadOnlySpan<int> shape,
        ArrayView1D<T, Stride1D.Dense> a, int aOffset, ReadOnlySpan<int> aStrides,
        ArrayView1D<T, Stride1D.Dense> b, int bOffset, ReadOnlySpan<int> bStrides, ArrayView1D<T, Stride1D.Dense> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuElementwise.Binary";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(y), Views.Length(y), count, "the product of shape");
        if ((uint)op > (uint)BinaryOp.Min) throw new ArgumentOutOfRangeException(nameof(op), op, $"{kernel}: unknown operation.");
        if (count == 0) return;
        Check.StridedView(kernel, nameof(a), shape, Views.Length(a), aOffset, aStrides);
        Check.StridedView(kernel, nameof(b), shape, Views.Length(b), bOffset, bStrides);
        var layout = new StridedLayout(shape, aStrides, bStrides);
        var args = new StridedArgs<T>
        {
            A = a, B = b, Y = y, OffsetA = aOffset, OffsetB = bOffset, Op = (int)op, Count = (int)count,
            Layout = DeviceStrides.From(layout, kernel),
        };
        LaunchStrided(backend, kernel, k => k.Binary, count, args);
    }

    /// <summary>y[index] = x[xOffset + Σ index·xStrides]; y is contiguous of <paramref name="shape"/>. See <see cref="Elementwise.Copy{T}"/>.</summary>
    public static void Copy<T>(IlgpuBackend backend, ReadOnlySpan<int> shape, ArrayView1D<T, Stride1D.Dense> x, int xOffset,
        ReadOnlySpan<int> xStrides, ArrayView1D<T, Stride1D.Dense> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuElementwise.Copy";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(y), Views.Length(y), count, "the product of shape");
        if (count == 0) return;
        Check.StridedView(kernel, nameof(x), shape, Views.Length(x), xOffset, xStrides);
        var layout = new StridedLayout(shape, xStrides, xStrides);
        var args = new StridedArgs<T> { A = x, Y = y, OffsetA = xOffset, Count = (int)count, Layout = DeviceStrides.From(layout, kernel) };
        LaunchStrided(backend, kernel, k => k.Copy, count, args);
    }

    /// <summary>
    /// y[yOffset + Σ index·yStrides] += x[index], x contiguous of <paramref name="shape"/>. See
    /// <see cref="Elementwise.AddStrided{T}"/>. When the view of y overlaps itself (a stride-0 axis),
    /// one thread does the whole sum in index order (slow, but deterministic and race-free).
    /// </summary>
    public static void AddStrided<T>(IlgpuBackend backend, ReadOnlySpan<int> shape, ArrayView1D<T, Stride1D.Dense> x,
        ArrayView1D<T, Stride1D.Dense> y, int yOffset, ReadOnlySpan<int> yStrides) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuElementwise.AddStrided";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(x), Views.Length(x), count, "the product of shape");
        if (count == 0) return;
        if (count > int.MaxValue) throw new NotSupportedException($"{kernel}: {count} elements in one launch (the device index math is 32-bit).");
        Check.StridedView(kernel, nameof(y), shape, Views.Length(y), yOffset, yStrides);
        var layout = new StridedLayout(shape, yStrides, yStrides);
        var args = new StridedArgs<T> { A = y, Y = x, OffsetA = yOffset, Count = (int)count, Layout = DeviceStrides.From(layout, kernel) };
        if (layout.IsANonOverlapping()) LaunchStrided(backend, kernel, k => k.AddStrided, count, args);
        else LaunchStrided(backend, kernel, k => k.AddStridedSequential, 1, args);
    }

    /// <summary>
    /// target += x summed down to <paramref name="targetShape"/> (the gradient of broadcasting), as
    /// <see cref="Elementwise.ReduceBroadcast{T}"/>. One thread per target element sums its broadcast
    /// copies in row-major order, starting from the target's old value: the reference's order exactly.
    /// With few targets and many copies (a bias gradient) the copies are cut into ranges
    /// (<see cref="Views.SplitLoop"/>) summed in parallel, then added to the target in range order:
    /// deterministic, rounded in a different (fixed) order than the reference.
    /// </summary>
    public static void ReduceBroadcast<T>(IlgpuBackend backend, ReadOnlySpan<int> fullShape, ArrayView1D<T, Stride1D.Dense> x,
        ReadOnlySpan<int> targetShape, ArrayView1D<T, Stride1D.Dense> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuElementwise.ReduceBroadcast";
        long count = Check.Shape(kernel, nameof(fullShape), fullShape);
        long targetCount = Check.Shape(kernel, nameof(targetShape), targetShape);
        Check.AtLeast(kernel, nameof(x), Views.Length(x), count, "the product of fullShape");
        Check.AtLeast(kernel, nameof(target), Views.Length(target), targetCount, "the product of targetShape");
        int rank = fullShape.Length, missing = rank - targetShape.Length;
        for (int axis = 0; axis < rank && missing >= 0; axis++)
        {
            int targetDim = axis >= missing ? targetShape[axis - missing] : 1;
            if (targetDim != fullShape[axis] && targetDim != 1) missing = -1;
        }
        if (missing < 0)
            throw new ArgumentException($"{kernel}: targetShape ({string.Join(", ", targetShape.ToArray())}) does not broadcast " +
                $"to fullShape ({string.Join(", ", fullShape.ToArray())}).", nameof(targetShape));
        if (count == 0) return;
        if (count > int.MaxValue) throw new NotSupportedException($"{kernel}: {count} elements in one launch (the device index math is 32-bit).");

        // Kept axes index the target (and step x); summed axes only step x. Both innermost first,
        // neighbours merged when x steps through them as one.
        DeviceStrides kept = default, summed = default;
        int summedCount = 1, xStride = 1;
        int keptDim = 1, keptStride = 0, summedDim = 1, summedStride = 0;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int dim = fullShape[axis];
            if (dim == 1) continue;
            bool isKept = axis >= missing && targetShape[axis - missing] == dim;
            if (isKept) Merge(ref kept, ref keptDim, ref keptStride, dim, xStride, kernel);
            else
            {
                Merge(ref summed, ref summedDim, ref summedStride, dim, xStride, kernel);
                summedCount *= dim;
            }
            xStride *= dim;
        }
        kept.Add(kernel, keptDim, keptStride, 0);
        summed.Add(kernel, summedDim, summedStride, 0);
        var args = new StridedArgs<T> { A = x, Y = target, Layout = kept, Summed = summed, Count = summedCount, Targets = (int)targetCount };
        // The common case, a bias gradient: x is (copies, targets) row-major and target t sums column t. Its
        // kernels step through x by adding the row length instead of decoding strides: same elements, same order.
        bool columns = kept.Rank == 1 && kept.A0 == 1 && kept.Dim0 == targetCount && summed.Rank == 1 && summed.A0 == targetCount;
        // Few targets and many copies (a bias gradient sums 64 columns over 10,000 tokens): split the copies.
        var (splits, chunk) = Views.SplitLoop(targetCount, summedCount, Views.ParallelThreads(backend), minChunk: 32);
        if (splits == 1)
        {
            LaunchStrided(backend, kernel, columns ? k => k.ReduceColumns : k => k.ReduceBroadcast, targetCount, args);
            return;
        }
        var partials = backend.Pool.Rent<T>(targetCount * splits);
        args.Partials = partials.View;
        args.Splits = splits;
        args.Chunk = chunk;
        LaunchStrided(backend, kernel, columns ? k => k.ReduceColumnsPartial : k => k.ReduceBroadcastPartial, targetCount * splits, args);
        LaunchStrided(backend, kernel, k => k.ReduceBroadcastSplits, targetCount, args);
        backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
    }

    /// <summary>Adds axis (dim, stride) outside the pending one, merging them when contiguous; the pending axis is flushed otherwise.</summary>
    static void Merge(ref DeviceStrides axes, ref int pendingDim, ref int pendingStride, int dim, int stride, string kernel)
    {
        if (pendingDim == 1) { pendingDim = dim; pendingStride = stride; return; }
        if (stride == pendingStride * pendingDim) { pendingDim *= dim; return; }
        axes.Add(kernel, pendingDim, pendingStride, 0);
        pendingDim = dim;
        pendingStride = stride;
    }

    static void LaunchStrided<T>(IlgpuBackend backend, string kernel,
        Func<StridedKernels<T>, Action<AcceleratorStream, Index1D, StridedArgs<T>>> pick, long threads, StridedArgs<T> args)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, kernel);
        if (threads > int.MaxValue) throw new NotSupportedException($"{kernel}: {threads} threads in one launch.");
        pick(backend.Kernels<StridedKernels<T>>())(backend.Stream, (int)threads, args);
    }

    sealed class StridedKernels<T> : IKernelSet<StridedKernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, StridedArgs<T>> Binary, Copy, AddStrided, AddStridedSequential, ReduceBroadcast,
            ReduceBroadcastPartial, ReduceBroadcastSplits, ReduceColumns, ReduceColumnsPartial;

        public static StridedKernels<T> Load(IlgpuBackend backend) => new()
        {
            Binary = Load(backend, nameof(StridedElementwiseKernels.Binary)),
            Copy = Load(backend, nameof(StridedElementwiseKernels.Copy)),
            AddStrided = Load(backend, nameof(StridedElementwiseKernels.AddStrided)),
            AddStridedSequential = Load(backend, nameof(StridedElementwiseKernels.AddStridedSequential)),
            ReduceBroadcast = Load(backend, nameof(StridedElementwiseKernels.ReduceBroadcast)),
            ReduceBroadcastPartial = Load(backend, nameof(StridedElementwiseKernels.ReduceBroadcastPartial)),
            ReduceBroadcastSplits = Load(backend, nameof(StridedElementwiseKernels.ReduceBroadcastSplits)),
            ReduceColumns = Load(backend, nameof(StridedElementwiseKernels.ReduceColumns)),
            ReduceColumnsPartial = Load(backend, nameof(StridedElementwiseKernels.ReduceColumnsPartial)),
        };

        static Action<AcceleratorStream, Index1D, StridedArgs<T>> Load(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, StridedArgs<T>>(backend, typeof(StridedElementwiseKernels), name);
    }
}

/// <summary>Arguments of the strided kernels: operands A and B walk <see cref="Layout"/>; Y is the contiguous side.</summary>
internal struct StridedArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> A, B, Y, Partials;
    public DeviceStrides Layout, Summed;
    public int OffsetA, OffsetB, Op, Count, Targets, Splits, Chunk;
}

/// <summary>Device code of <see cref="IlgpuElementwise"/>'s strided kernels.</summary>
internal static class StridedElementwiseKernels
{
    internal static void Binary<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int a = s.OffsetA, b = s.OffsetB;
        s.Layout.Offsets(index, ref a, ref b);
        T left = s.A[a], right = s.B[b];
        s.Y[index] = s.Op switch
        {
            (int)BinaryOp.Add => left + right,
            (int)BinaryOp.Sub => left - right,
            (int)BinaryOp.Mul => left * right,
            (int)BinaryOp.Div => left / right,
            (int)BinaryOp.Max => T.Max(left, right),
            _ => T.Min(left, right),
        };
    }

    internal static void Copy<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int a = s.OffsetA, unused = 0;
        s.Layout.Offsets(index, ref a, ref unused);
        s.Y[index] = s.A[a];
    }

    /// <summary>A (the strided y) += Y (the contiguous x), one element per thread: the view must not overlap itself.</summary>
    internal static void AddStrided<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int a = s.OffsetA, unused = 0;
        s.Layout.Offsets(index, ref a, ref unused);
        s.A[a] += s.Y[index];
    }

    /// <summary>The same, all elements by one thread in index order, for views that overlap themselves.</summary>
    internal static void AddStridedSequential<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int linear = 0; linear < s.Count; linear++)
        {
            int a = s.OffsetA, unused = 0;
            s.Layout.Offsets(linear, ref a, ref unused);
            s.A[a] += s.Y[linear];
        }
    }

    /// <summary>One thread per target element: Y[t] += Σ over its broadcast copies in A (= x).</summary>
    internal static void ReduceBroadcast<T>(Index1D target, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int xBase = 0, unused = 0;
        s.Layout.Offsets(target, ref xBase, ref unused);
        T sum = s.Y[target];
        for (int copy = 0; copy < s.Count; copy++)
        {
            int x = xBase;
            s.Summed.Offsets(copy, ref x, ref unused);
            sum += s.A[x];
        }
        s.Y[target] = sum;
    }

    /// <summary>Split reduction, first pass: thread (split, target) sums copies [split·Chunk, (split + 1)·Chunk) into Partials.</summary>
    internal static void ReduceBroadcastPartial<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int target = index % s.Targets, split = index / s.Targets;
        int xBase = 0, unused = 0;
        s.Layout.Offsets(target, ref xBase, ref unused);
        int first = split * s.Chunk, end = s.Count - first < s.Chunk ? s.Count : first + s.Chunk;
        T sum = T.Zero;
        for (int copy = first; copy < end; copy++)
        {
            int x = xBase;
            s.Summed.Offsets(copy, ref x, ref unused);
            sum += s.A[x];
        }
        s.Partials[index] = sum;
    }

    /// <summary>
    /// <see cref="ReduceBroadcast{T}"/> when x is (Count, Targets) row-major and target t sums column t (a bias
    /// gradient): the same elements in the same order, reached by adding the row length, with no stride decode.
    /// </summary>
    internal static void ReduceColumns<T>(Index1D target, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = SerialSum.Add(s.Y[target], s.A, target, s.Targets, s.Count);
        s.Y[target] = sum;
    }

    /// <summary><see cref="ReduceBroadcastPartial{T}"/> for the column case of <see cref="ReduceColumns{T}"/>.</summary>
    internal static void ReduceColumnsPartial<T>(Index1D index, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int target = index % s.Targets, split = index / s.Targets;
        int first = split * s.Chunk, end = s.Count - first < s.Chunk ? s.Count : first + s.Chunk;
        T sum = SerialSum.Add(T.Zero, s.A, (long)first * s.Targets + target, s.Targets, end - first);
        s.Partials[index] = sum;
    }

    /// <summary>Split reduction, second pass: Y[target] += the partial sums, in split order.</summary>
    internal static void ReduceBroadcastSplits<T>(Index1D target, StridedArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = SerialSum.Add(s.Y[target], s.Partials, target, s.Targets, s.Splits);
        s.Y[target] = sum;
    }
}
