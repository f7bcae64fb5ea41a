using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// One launch for up to <see cref="GroupSize"/> tensors instead of one each: zeroing a model's parameter
/// gradients, scaling them for global-norm clipping and the Adam update were one small launch per
/// parameter tensor (70 each for the LM's step), a few microseconds apiece on a GPU for a few thousand elements of work (PyTorch's
/// <c>foreach</c>/<c>fused</c> optimizers do the same). A launch's threads cover the group's elements as one
/// flat index; each thread finds its tensor by comparing against the group's cumulative lengths and does
/// exactly what the one-tensor kernel does to that element, so results are bit-identical to the
/// tensor-by-tensor launches.
/// </summary>
public static class IlgpuMultiTensor
{
    /// <summary>Tensors per launch (the views travel in the kernel's parameter block).</summary>
    public const int GroupSize = 8;

    /// <summary>y[i] = value for every element of every tensor of <paramref name="ys"/>, in ⌈count / <see cref="GroupSize"/>⌉ launches.</summary>
    public static void Fill<T>(IlgpuBackend backend, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> ys, T value)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        WithScalar(backend, "IlgpuMultiTensor.Fill", ys, value, scale: false);

    /// <summary>x = alpha·x for every tensor of <paramref name="xs"/> (in place), in ⌈count / <see cref="GroupSize"/>⌉ launches.</summary>
    public static void ScaleInPlace<T>(IlgpuBackend backend, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> xs, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        WithScalar(backend, "IlgpuMultiTensor.ScaleInPlace", xs, alpha, scale: true);

    static void WithScalar<T>(IlgpuBackend backend, string kernel, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> xs, T value, bool scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, kernel);
        var kernels = backend.Kernels<Kernels<T>>();
        for (int start = 0; start < xs.Length; start += GroupSize)
        {
            var args = new FillArgs<T> { Y = Group(xs.Slice(start, Math.Min(GroupSize, xs.Length - start)), out int total), Value = value };
            if (total > 0) (scale ? kernels.Scale : kernels.Fill)(backend.Stream, total, args);
        }
    }

    /// <summary>
    /// results[i] = Σ xs[i]² for every tensor, bit-identical to <see cref="IlgpuReduce.SumOfSquares{T}"/> tensor by tensor:
    /// each tensor gets the same number of groups striding over it the same way (one launch for all of a
    /// group's tensors), and the tensors that needed a second pass get it from one more launch, a group each.
    /// </summary>
    public static void SumOfSquares<T>(IlgpuBackend backend, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> xs, ArrayView1D<T, Stride1D.Dense> results)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuMultiTensor.SumOfSquares";
        Views.CheckType<T>(backend, kernel);
        Check.AtLeast(kernel, nameof(results), Views.Length(results), xs.Length, "one element per tensor");
        var kernels = backend.Kernels<Kernels<T>>();
        for (int start = 0; start < xs.Length; start += GroupSize)
        {
            int count = Math.Min(GroupSize, xs.Length - start);
            // The group's views, with cumulative *group* counts as their ends: group g of the launch belongs to Slot(g).
            var views = new TensorGroup<T>();
            int groups = 0;
            bool secondPass = false;
            for (int i = 0; i < count; i++)
            {
                int own = IlgpuReduce.WholeSumGroups(backend, xs[start + i].Length);
                secondPass |= own > 1;
                groups += own;
                views.Set(i, xs[start + i], groups);
            }
            for (int i = count; i < GroupSize; i++) views.Set(i, ArrayView1D<T, Stride1D.Dense>.Empty, groups);
            var partials = backend.Pool.Rent<T>(groups);   // partial g at index g; a one-group tensor writes its result directly
            var args = new SumSquaresArgs<T> { X = views, Partials = partials.View, Results = results.SubView(start, count) };
            kernels.PartialSumsOfSquares(backend.Stream, new KernelConfig(groups, backend.RowGroupSize), args);
            if (secondPass) kernels.SumPartials(backend.Stream, new KernelConfig(count, backend.RowGroupSize), args);
            backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
        }
    }

    /// <summary>
    /// Adam or AdamW (<paramref name="scalars"/> from <see cref="IlgpuOptimizers.AdamScalars{T}"/>) on every
    /// (param, grad, m, v) quadruple, in ⌈count / <see cref="GroupSize"/>⌉ launches.
    /// </summary>
    internal static void Adam<T>(IlgpuBackend backend, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> parameters, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> grads,
        ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> m, ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> v, OptimizerArgs<T> scalars)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuMultiTensor.Adam";
        Views.CheckType<T>(backend, kernel);
        if (grads.Length != parameters.Length || m.Length != parameters.Length || v.Length != parameters.Length)
            throw new ArgumentException($"{kernel}: {parameters.Length} parameters, {grads.Length} gradients, {m.Length} and {v.Length} moment buffers");
        for (int i = 0; i < parameters.Length; i++)
        {
            Check.SameLength(kernel, nameof(grads), Views.Length(grads[i]), nameof(parameters), Views.Length(parameters[i]));
            Check.SameLength(kernel, nameof(m), Views.Length(m[i]), nameof(parameters), Views.Length(parameters[i]));
            Check.SameLength(kernel, nameof(v), Views.Length(v[i]), nameof(parameters), Views.Length(parameters[i]));
        }
        var kernels = backend.Kernels<Kernels<T>>();
        for (int start = 0; start < parameters.Length; start += GroupSize)
        {
            int count = Math.Min(GroupSize, parameters.Length - start);
            var args = new AdamArgs<T>
            {
                Param = Group(parameters.Slice(start, count), out int total),
                Grad = Group(grads.Slice(start, count), out _),
                M = Group(m.Slice(start, count), out _),
                V = Group(v.Slice(start, count), out _),
                Scalars = scalars,
            };
            if (total > 0) kernels.Adam(backend.Stream, total, args);
        }
    }

    // Up to GroupSize views and their cumulative ends; unused slots are empty and end at the total.
    static TensorGroup<T> Group<T>(ReadOnlySpan<ArrayView1D<T, Stride1D.Dense>> views, out int total) where T : unmanaged
    {
        var group = new TensorGroup<T>();
        long end = 0;
        for (int i = 0; i < views.Length; i++)
        {
            end += views[i].Length;
            if (end > int.MaxValue) throw new NotSupportedException($"IlgpuMultiTensor: {end} elements in one launch.");
            group.Set(i, views[i], (int)end);
        }
        for (int i = views.Length; i < GroupSize; i++) group.Set(i, ArrayView1D<T, Stride1D.Dense>.Empty, (int)end);
        total = (int)end;
        return group;
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, FillArgs<T>> Fill, Scale;
        public required Action<AcceleratorStream, Index1D, AdamArgs<T>> Adam;
        public required Action<AcceleratorStream, KernelConfig, SumSquaresArgs<T>> PartialSumsOfSquares, SumPartials;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Fill = KernelMethods.Indexed<T, FillArgs<T>>(backend, typeof(MultiTensorKernels), nameof(MultiTensorKernels.Fill)),
            Scale = KernelMethods.Indexed<T, FillArgs<T>>(backend, typeof(MultiTensorKernels), nameof(MultiTensorKernels.Scale)),
            Adam = KernelMethods.Indexed<T, AdamArgs<T>>(backend, typeof(MultiTensorKernels), nameof(MultiTensorKernels.Adam)),
            PartialSumsOfSquares = KernelMethods.Grouped<T, SumSquaresArgs<T>>(backend, typeof(MultiTensorKernels), nameof(MultiTensorKernels.PartialSumsOfSquares)),
            SumPartials = KernelMethods.Grouped<T, SumSquaresArgs<T>>(backend, typeof(MultiTensorKernels), nameof(MultiTensorKernels.SumPartials)),
        };
    }
}

/// <summary>Up to <see cref="IlgpuMultiTensor.GroupSize"/> tensors of one launch: their views and where each one ends in the launch's flat index (of elements; of groups for the sums of squares).</summary>
internal struct TensorGroup<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> View0, View1, View2, View3, View4, View5, View6, View7;
    public int End0, End1, End2, End3, End4, End5, End6, End7;

    public void Set(int slot, ArrayView1D<T, Stride1D.Dense> view, int end)
    {
        switch (slot)
        {
            case 0: (View0, End0) = (view, end); break;
            case 1: (View1, End1) = (view, end); break;
            case 2: (View2, End2) = (view, end); break;
            case 3: (View3, End3) = (view, end); break;
            case 4: (View4, End4) = (view, end); break;
            case 5: (View5, End5) = (view, end); break;
            case 6: (View6, End6) = (view, end); break;
            case 7: (View7, End7) = (view, end); break;
            default: throw new ArgumentOutOfRangeException(nameof(slot), slot, $"a group holds {IlgpuMultiTensor.GroupSize} tensors");
        }
    }

    /// <summary>The slot holding flat index <paramref name="i"/> (the first whose end exceeds it); <paramref name="local"/> is the index inside that tensor.</summary>
    public readonly int Slot(int i, out int local)
    {
        if (i < End0) { local = i; return 0; }
        if (i < End1) { local = i - End0; return 1; }
        if (i < End2) { local = i - End1; return 2; }
        if (i < End3) { local = i - End2; return 3; }
        if (i < End4) { local = i - End3; return 4; }
        if (i < End5) { local = i - End4; return 5; }
        if (i < End6) { local = i - End5; return 6; }
        local = i - End6;
        return 7;
    }

    public readonly int End(int slot) => slot switch
    {
        0 => End0, 1 => End1, 2 => End2, 3 => End3, 4 => End4, 5 => End5, 6 => End6, _ => End7,
    };

    public readonly ArrayView1D<T, Stride1D.Dense> View(int slot) => slot switch
    {
        0 => View0, 1 => View1, 2 => View2, 3 => View3, 4 => View4, 5 => View5, 6 => View6, _ => View7,
    };
}

/// <summary>A group and one scalar: the value of a fill, the factor of a scale.</summary>
internal struct FillArgs<T> where T : unmanaged
{
    public TensorGroup<T> Y;
    public T Value;
}

/// <summary>A group of tensors whose ends count groups, not elements; the partial sums (one per group) and the results (one per tensor).</summary>
internal struct SumSquaresArgs<T> where T : unmanaged
{
    public TensorGroup<T> X;
    public ArrayView1D<T, Stride1D.Dense> Partials, Results;
}

internal struct AdamArgs<T> where T : unmanaged
{
    public TensorGroup<T> Param, Grad, M, V;
    public OptimizerArgs<T> Scalars;   // its own views are unused
}

/// <summary>Device code of <see cref="IlgpuMultiTensor"/>: one thread per element of the group.</summary>
internal static class MultiTensorKernels
{
    internal static void Fill<T>(Index1D i, FillArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int slot = s.Y.Slot(i, out int local);
        s.Y.View(slot)[local] = s.Value;
    }

    /// <summary>The arithmetic of <c>ElementwiseKernels.Scale</c> with x = y.</summary>
    internal static void Scale<T>(Index1D i, FillArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int slot = s.Y.Slot(i, out int local);
        var y = s.Y.View(slot);
        y[local] = s.Value * y[local];
    }

    /// <summary>
    /// Group g: tensor Slot(g)'s partial sum of squares, strided exactly as <c>ReduceKernels.PartialSums</c> strides
    /// over that tensor with its own group count; written to Results when it is the tensor's only group.
    /// </summary>
    internal static void PartialSumsOfSquares<T, TSum, TMax>(SumSquaresArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int g = Grid.IdxX;
        int slot = s.X.Slot(g, out int local);
        int groups = s.X.End(slot) - (slot == 0 ? 0 : s.X.End(slot - 1));
        var x = s.X.View(slot);
        T sum = T.Zero;
        long step = (long)groups * Group.DimX;
        for (long e = (long)local * Group.DimX + Group.IdxX; e < x.Length; e += step)
        {
            T value = x[e];
            sum += value * value;
        }
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        if (Group.IdxX == 0)
        {
            if (groups == 1) s.Results[slot] = sum;
            else s.Partials[g] = sum;
        }
    }

    /// <summary>Group t: for a tensor of several groups, Σ of its partials as <c>ReduceKernels.SumPartials</c> adds them.</summary>
    internal static void SumPartials<T, TSum, TMax>(SumSquaresArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int slot = Grid.IdxX;
        int first = slot == 0 ? 0 : s.X.End(slot - 1), groups = s.X.End(slot) - first;
        if (groups == 1) return;   // the whole group leaves together: no barrier is skipped by part of it
        T sum = T.Zero;
        for (int j = Group.IdxX; j < groups; j += Group.DimX) sum += s.Partials[first + j];
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        if (Group.IdxX == 0) s.Results[slot] = sum;
    }

    internal static void Adam<T>(Index1D i, AdamArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int slot = s.Param.Slot(i, out int local);
        OptimizerKernels.AdamAt(s.Param.View(slot), s.Grad.View(slot), s.M.View(slot), s.V.View(slot), local, s.Scalars);
    }
}
