using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Layer normalisation on an ILGPU device, with the contract of <see cref="LayerNorm"/>: x, y are
/// (n, d); w, b are (d) or empty; mean and rstd are (n) or empty (forward) and required (backward);
/// gradients accumulate. Forward and the dx part of backward run one group per row (two group
/// reductions each); dw and db run one thread per column that walks the rows in order, so they are
/// deterministic and need no atomics.
/// </summary>
public static class IlgpuLayerNorm
{
    /// <summary>y = (x − mean)·rstd ⊙ w + b row by row, saving mean and rstd when given. y may be x.</summary>
    public static void Forward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> w,
        ArrayView1D<T, Stride1D.Dense> b, ArrayView1D<T, Stride1D.Dense> y, ArrayView1D<T, Stride1D.Dense> mean,
        ArrayView1D<T, Stride1D.Dense> rstd, int n, int d, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuLayerNorm.Forward";
        CheckCommon(kernel, x, w, n, d);
        Check.EmptyOrAtLeast(kernel, nameof(b), Views.Length(b), d, "d, or empty for no bias");
        Check.AtLeast(kernel, nameof(y), Views.Length(y), (long)n * d, "n·d");
        Check.EmptyOrAtLeast(kernel, nameof(mean), Views.Length(mean), n, "n, or empty to skip saving");
        Check.EmptyOrAtLeast(kernel, nameof(rstd), Views.Length(rstd), n, "n, or empty to skip saving");
        Views.CheckType<T>(backend, kernel);
        if ((long)n * d == 0) return;
        var args = new LayerNormArgs<T> { X = x, W = w, B = b, Y = y, Mean = mean, Rstd = rstd, N = n, D = d, Eps = eps, Count = T.CreateChecked(d) };
        backend.Kernels<Kernels<T>>().ForwardRow(backend.Stream, new KernelConfig(n, backend.RowGroupSize), args);
    }

    /// <summary>
    /// dx += (dnorm − mean(dnorm) − x̂·mean(dnorm ⊙ x̂))·rstd, dw += Σ_rows dy ⊙ x̂, db += Σ_rows dy
    /// (x̂ = (x − mean)·rstd, dnorm = dy ⊙ w). dw and db are skipped when empty. With
    /// <paramref name="accumulateDx"/> false, dx is overwritten instead (its old contents, even NaN, are never read).
    /// </summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> dy, ArrayView1D<T, Stride1D.Dense> x,
        ArrayView1D<T, Stride1D.Dense> w, ArrayView1D<T, Stride1D.Dense> mean, ArrayView1D<T, Stride1D.Dense> rstd,
        ArrayView1D<T, Stride1D.Dense> dx, ArrayView1D<T, Stride1D.Dense> dw, ArrayView1D<T, Stride1D.Dense> db, int n, int d,
        bool accumulateDx = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuLayerNorm.Backward";
        CheckCommon(kernel, x, w, n, d);
        Check.AtLeast(kernel, nameof(dy), Views.Length(dy), (long)n * d, "n·d");
        Check.AtLeast(kernel, nameof(dx), Views.Length(dx), (long)n * d, "n·d");
        Check.AtLeast(kernel, nameof(mean), Views.Length(mean), n, "n");
        Check.AtLeast(kernel, nameof(rstd), Views.Length(rstd), n, "n");
        Check.EmptyOrAtLeast(kernel, nameof(dw), Views.Length(dw), d, "d, or empty to skip");
        Check.EmptyOrAtLeast(kernel, nameof(db), Views.Length(db), d, "d, or empty to skip");
        Views.CheckType<T>(backend, kernel);
        if ((long)n * d == 0) return;
        var args = new LayerNormArgs<T>
        {
            DY = dy, X = x, W = w, Mean = mean, Rstd = rstd, DX = dx, DW = dw, DB = db, N = n, D = d, Count = T.CreateChecked(d),
            AccumulateDx = accumulateDx ? 1 : 0,
        };
        var kernels = backend.Kernels<Kernels<T>>();
        kernels.BackwardRow(backend.Stream, new KernelConfig(n, backend.RowGroupSize), args);
        if (dw.Length == 0 && db.Length == 0) return;
        // dw and db sum over every row: with few columns and many rows, cut the rows into ranges.
        var (splits, chunk) = Views.SplitLoop(d, n, Views.ParallelThreads(backend), minChunk: 32);
        if (splits == 1)
        {
            kernels.ParameterGradients(backend.Stream, d, args);
            return;
        }
        var partials = backend.Pool.Rent<T>(2L * d * splits);
        args.Partials = partials.View;
        args.Splits = splits;
        args.Chunk = chunk;
        kernels.ParameterGradientPartials(backend.Stream, checked(d * splits), args);
        kernels.ParameterGradientSplits(backend.Stream, d, args);
        backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
    }

    static void CheckCommon<T>(string kernel, ArrayView1D<T, Stride1D.Dense> x, ArrayView1D<T, Stride1D.Dense> w, int n, int d)
        where T : unmanaged
    {
        Check.NonNegative(kernel, nameof(n), n);
        Check.NonNegative(kernel, nameof(d), d);
        Check.AtLeast(kernel, nameof(x), Views.Length(x), (long)n * d, "n·d");
        Check.EmptyOrAtLeast(kernel, nameof(w), Views.Length(w), d, "d, or empty for no scale");
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, LayerNormArgs<T>> ForwardRow, BackwardRow;
        public required Action<AcceleratorStream, Index1D, LayerNormArgs<T>> ParameterGradients, ParameterGradientPartials, ParameterGradientSplits;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            ForwardRow = KernelMethods.Grouped<T, LayerNormArgs<T>>(backend, typeof(LayerNormKernels), nameof(LayerNormKernels.ForwardRow)),
            BackwardRow = KernelMethods.Grouped<T, LayerNormArgs<T>>(backend, typeof(LayerNormKernels), nameof(LayerNormKernels.BackwardRow)),
            ParameterGradients = Indexed(backend, nameof(LayerNormKernels.ParameterGradientColumn)),
            ParameterGradientPartials = Indexed(backend, nameof(LayerNormKernels.ParameterGradientPartial)),
            ParameterGradientSplits = Indexed(backend, nameof(LayerNormKernels.ParameterGradientSplits)),
        };

        static Action<AcceleratorStream, Index1D, LayerNormArgs<T>> Indexed(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, LayerNormArgs<T>>(backend, typeof(LayerNormKernels), name);
    }
}

/// <summary>Arguments of the layer-norm kernels; an empty view means "absent" (no scale, no bias, don't save).</summary>
internal struct LayerNormArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> X, W, B, Y, Mean, Rstd, DY, DX, DW, DB, Partials;
    public int N, D, Splits, Chunk;   // Splits, Chunk: the row ranges of the split parameter gradients
    public int AccumulateDx;          // backward: 1 adds to dx, 0 overwrites it
    public T Eps, Count;   // Count = d as T (generic math cannot convert inside a kernel)
}

/// <summary>Device code of <see cref="IlgpuLayerNorm"/>.</summary>
internal static class LayerNormKernels
{
    /// <summary>One group per row: mean, biased variance (two passes), then the normalised, scaled row.</summary>
    internal static void ForwardRow<T, TSum, TMax>(LayerNormArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, d = s.D;
        long start = (long)row * d;
        T sum = T.Zero;
        for (int i = Group.IdxX; i < d; i += Group.DimX) sum += s.X[start + i];
        T mean = DeterministicGroup.AllReduce<T, TSum>(sum) / s.Count;
        T squares = T.Zero;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            T centered = s.X[start + i] - mean;
            squares += centered * centered;
        }
        T rstd = T.One / T.Sqrt(DeterministicGroup.AllReduce<T, TSum>(squares) / s.Count + s.Eps);
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            T y = (s.X[start + i] - mean) * rstd;
            if (s.W.Length > 0) y *= s.W[i];
            if (s.B.Length > 0) y += s.B[i];
            s.Y[start + i] = y;
        }
        if (Group.IdxX != 0) return;
        if (s.Mean.Length > 0) s.Mean[row] = mean;
        if (s.Rstd.Length > 0) s.Rstd[row] = rstd;
    }

    /// <summary>One group per row: the two row means of backward, then dx.</summary>
    internal static void BackwardRow<T, TSum, TMax>(LayerNormArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int row = Grid.IdxX, d = s.D;
        long start = (long)row * d;
        T mean = s.Mean[row], rstd = s.Rstd[row];
        T dnormSum = T.Zero, dnormXhatSum = T.Zero;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            T dnorm = s.W.Length > 0 ? s.DY[start + i] * s.W[i] : s.DY[start + i];
            dnormSum += dnorm;
            dnormXhatSum += dnorm * ((s.X[start + i] - mean) * rstd);
        }
        T dnormMean = DeterministicGroup.AllReduce<T, TSum>(dnormSum) / s.Count;
        T dnormXhatMean = DeterministicGroup.AllReduce<T, TSum>(dnormXhatSum) / s.Count;
        for (int i = Group.IdxX; i < d; i += Group.DimX)
        {
            T dnorm = s.W.Length > 0 ? s.DY[start + i] * s.W[i] : s.DY[start + i];
            T xhat = (s.X[start + i] - mean) * rstd;
            T dx = (dnorm - dnormMean - xhat * dnormXhatMean) * rstd;
            s.DX[start + i] = s.AccumulateDx != 0 ? s.DX[start + i] + dx : dx;
        }
    }

    /// <summary>One thread per column: dw[c] += Σ_rows dy·x̂ and db[c] += Σ_rows dy, rows in order.</summary>
    internal static void ParameterGradientColumn<T>(Index1D column, LayerNormArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool hasDw = s.DW.Length > 0, hasDb = s.DB.Length > 0;
        T dw = hasDw ? s.DW[column] : T.Zero, db = hasDb ? s.DB[column] : T.Zero;
        for (int row = 0; row < s.N; row++)
        {
            T dy = s.DY[(long)row * s.D + column];
            db += dy;
            dw += dy * ((s.X[(long)row * s.D + column] - s.Mean[row]) * s.Rstd[row]);
        }
        if (hasDw) s.DW[column] = dw;
        if (hasDb) s.DB[column] = db;
    }

    /// <summary>
    /// Split version, first pass: thread (split, column) sums rows [split·Chunk, (split + 1)·Chunk) of
    /// dy·x̂ and dy into Partials[split·D + column] and Partials[(Splits + split)·D + column].
    /// </summary>
    internal static void ParameterGradientPartial<T>(Index1D index, LayerNormArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int column = index % s.D, split = index / s.D;
        int first = split * s.Chunk, end = s.N - first < s.Chunk ? s.N : first + s.Chunk;
        T dw = T.Zero, db = T.Zero;
        for (int row = first; row < end; row++)
        {
            T dy = s.DY[(long)row * s.D + column];
            db += dy;
            dw += dy * ((s.X[(long)row * s.D + column] - s.Mean[row]) * s.Rstd[row]);
        }
        s.Partials[index] = dw;
        s.Partials[(long)s.Splits * s.D + index] = db;
    }

    /// <summary>Split version, second pass: dw[c] and db[c] += their partial sums, in split order.</summary>
    internal static void ParameterGradientSplits<T>(Index1D column, LayerNormArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T dw = SerialSum.Add(T.Zero, s.Partials, column, s.D, s.Splits);
        T db = SerialSum.Add(T.Zero, s.Partials, (long)s.Splits * s.D + column, s.D, s.Splits);
        if (s.DW.Length > 0) s.DW[column] += dw;
        if (s.DB.Length > 0) s.DB[column] += db;
    }
}
