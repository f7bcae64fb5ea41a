using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Softmax over rows on an ILGPU device, with the contract of <see cref="Softmax"/> (same arguments,
/// row-major (rows, cols); the causal variants treat (batch, t, t) as batch·t rows of which row r sees
/// columns 0..r mod t). One group per row: its threads stride over the columns and combine their
/// partial max and sum with ILGPU.Algorithms' group reductions.
/// </summary>
public static class IlgpuSoftmax
{
    /// <summary>y[r, :] = softmax(x[r, :]). x and y are (rows, cols); y may be x.</summary>
    public static void Forward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> y,
        int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix("IlgpuSoftmax.Forward", "x", x, "y", y, rows, cols);
        Launch(backend, forward: true, new SoftmaxArgs<T> { In = x, Out = y, Cols = cols }, rows);
    }

    /// <summary>Causal softmax of attention scores: x and y are (batch, t, t); above-diagonal entries of y are 0. y may be x.</summary>
    public static void ForwardCausal<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> y,
        int batch, int t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckCausal("IlgpuSoftmax.ForwardCausal", batch, t);
        CheckMatrix("IlgpuSoftmax.ForwardCausal", "x", x, "y", y, batch * t, t);
        Launch(backend, forward: true, new SoftmaxArgs<T> { In = x, Out = y, Cols = t, CausalT = t }, batch * t);
    }

    /// <summary>dx += y ⊙ (dy − Σ_j dy_j·y_j) per row. y, dy, dx are (rows, cols).</summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> y, ArrayView1D<T, Stride1D.Dense> dy,
        ArrayView1D<T, Stride1D.Dense> dx, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix("IlgpuSoftmax.Backward", "y", y, "dx", dx, rows, cols);
        Check.AtLeast("IlgpuSoftmax.Backward", nameof(dy), Views.Length(dy), (long)rows * cols, "rows·cols");
        Launch(backend, forward: false, new SoftmaxArgs<T> { In = y, Grad = dy, Out = dx, Cols = cols }, rows);
    }

    /// <summary><see cref="Backward{T}"/> for <see cref="ForwardCausal{T}"/>'s output: only columns 0..i of row i are touched.</summary>
    public static void BackwardCausal<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> y, ArrayView1D<T, Stride1D.Dense> dy,
        ArrayView1D<T, Stride1D.Dense> dx, int batch, int t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckCausal("IlgpuSoftmax.BackwardCausal", batch, t);
        CheckMatrix("IlgpuSoftmax.BackwardCausal", "y", y, "dx", dx, batch * t, t);
        Check.AtLeast("IlgpuSoftmax.BackwardCausal", nameof(dy), Views.Length(dy), (long)batch * t * t, "batch·t·t");
        Launch(backend, forward: false, new SoftmaxArgs<T> { In = y, Grad = dy, Out = dx, Cols = t, CausalT = t }, batch * t);
    }

    static void CheckCausal(string kernel, int batch, int t)
    {
        Check.NonNegative(kernel, nameof(batch), batch);
        Check.NonNegative(kernel, nameof(t), t);
    }

    static void CheckMatrix<T>(string kernel, string inName, ArrayView1D<T, Stride1D.Dense> input, string outName,
        ArrayView1D<T, Stride1D.Dense> output, int rows, int cols) where T : unmanaged
    {
        Check.NonNegative(kernel, nameof(rows), rows);
        Check.NonNegative(kernel, nameof(cols), cols);
        Check.AtLeast(kernel, inName, Views.Length(input), (long)rows * cols, "rows·cols");
        Check.AtLeast(kernel, outName, Views.Length(output), (long)rows * cols, "rows·cols");
    }

    static void Launch<T>(IlgpuBackend backend, bool forward, SoftmaxArgs<T> args, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, "IlgpuSoftmax");
        if ((long)rows * args.Cols == 0) return;
        var kernels = backend.Kernels<Kernels<T>>();
        var config = new KernelConfig(rows, backend.RowGroupSize);
        (forward ? kernels.Forward : kernels.Backward)(backend.Stream, config, args);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, SoftmaxArgs<T>> Forward, Backward;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Forward = KernelMethods.Grouped<T, SoftmaxArgs<T>>(backend, typeof(SoftmaxKernels), nameof(SoftmaxKernels.ForwardRow)),
            Backward = KernelMethods.Grouped<T, SoftmaxArgs<T>>(backend, typeof(SoftmaxKernels), nameof(SoftmaxKernels.BackwardRow)),
        };
    }
}

/// <summary>Arguments of the softmax row kernels. CausalT = 0: full rows; else row r sees (r mod CausalT) + 1 columns.</summary>
internal struct SoftmaxArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> In, Grad, Out;
    public int Cols, CausalT;
}

/// <summary>Device code of <see cref="IlgpuSoftmax"/>: one group per row (Grid.IdxX).</summary>
internal static class SoftmaxKernels
{
    /// <summary>Columns of <paramref name="row"/> that take part (the causal triangle, or all).</summary>
    /// <remarks>
    /// The remainder is taken by max(causalT, 1), never by 0: ILGPU turns the conditional into a select that computes
    /// both sides, and in OpenCL C a remainder by zero is undefined behaviour that the compiler may assume away — PoCL's
    /// compiled <c>causalT == 0 ? cols : row % causalT + 1</c> as the second branch, so every full row saw one column.
    /// </remarks>
    internal static int Seen(int row, int cols, int causalT) => causalT == 0 ? cols : row % Math.Max(causalT, 1) + 1;

    /// <summary>Out[row, :] = exp(In − max) / Σ exp(In − max) on the seen columns, 0 on the rest.</summary>
    internal static void ForwardRow<T, TSum, TMax>(SoftmaxArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, seen = Seen(row, s.Cols, s.CausalT);
        long start = (long)row * s.Cols;
        T max = T.NegativeInfinity;
        for (int j = Group.IdxX; j < seen; j += Group.DimX) max = T.Max(max, s.In[start + j]);
        max = DeterministicGroup.AllReduce<T, TMax>(max);
        T sum = T.Zero;
        for (int j = Group.IdxX; j < seen; j += Group.DimX) sum += T.Exp(s.In[start + j] - max);
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        // Each thread rewrites only the columns it read, after both reductions: safe in place.
        for (int j = Group.IdxX; j < s.Cols; j += Group.DimX)
            s.Out[start + j] = j < seen ? T.Exp(s.In[start + j] - max) / sum : T.Zero;
    }

    /// <summary>Out[row, j] += In·(Grad − Σ Grad·In) on the seen columns (In = y, Grad = dy, Out = dx).</summary>
    internal static void BackwardRow<T, TSum, TMax>(SoftmaxArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, seen = Seen(row, s.Cols, s.CausalT);
        long start = (long)row * s.Cols;
        T dot = T.Zero;
        for (int j = Group.IdxX; j < seen; j += Group.DimX) dot += s.Grad[start + j] * s.In[start + j];
        dot = DeterministicGroup.AllReduce<T, TSum>(dot);
        for (int j = Group.IdxX; j < seen; j += Group.DimX)
            s.Out[start + j] += s.In[start + j] * (s.Grad[start + j] - dot);
    }
}
