using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Layer normalisation over the last dimension of an (n, d) matrix, fused (llm.c's layernorm):
/// y = (x − mean)·rstd·w + b with the biased variance and rstd = 1/√(var + eps) (PyTorch uses
/// eps = 1e-5). Reference versions: <see cref="LayerNormReference"/>.
/// <para>
/// Forward and the dx part of backward run rows in parallel. dw and db sum over rows, so backward
/// computes them in a second pass split by blocks of columns: each column is summed by one thread
/// in row order, which keeps the result independent of the thread count.
/// </para>
/// </summary>
public static unsafe class LayerNorm
{
    /// <summary>
    /// Columns per work item of the dw/db pass: 32, so that d = 64 (affine) or 128 (the LM) still splits over the threads.
    /// A block's sums live in a local buffer until its last row, so two threads never write one cache line row after row.
    /// </summary>
    const int ColumnBlock = 32;

    /// <summary>
    /// y = (x − mean)·rstd ⊙ w + b row by row. x and y are (n, d); w and b are (d), or empty for no
    /// scale / no bias; mean and rstd are (n), saved for <see cref="Backward{T}"/> (pass empty spans
    /// to skip saving, e.g. at inference). y may be x.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y,
        Span<T> mean, Span<T> rstd, int n, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T> => Forward(x, w, b, y, mean, rstd, n, d, eps, default);

    /// <summary>
    /// <see cref="Forward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, int, int, T)"/>
    /// on the rows whose entry in <paramref name="needed"/> (n values, or empty for all) is not 0: the other rows of
    /// y and their mean and rstd are written as 0, so <see cref="Backward{T}"/> gives them a zero gradient (when their
    /// x is finite). The computed rows have the full forward's bits.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y,
        Span<T> mean, Span<T> rstd, int n, int d, T eps, ReadOnlySpan<T> needed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "LayerNorm.Forward";
        CheckCommon(kernel, x.Length, w.Length, n, d);
        Check.EmptyOrAtLeast(kernel, nameof(b), b.Length, d, "d, or empty for no bias");
        Check.AtLeast(kernel, nameof(y), y.Length, (long)n * d, "n·d");
        Check.EmptyOrAtLeast(kernel, nameof(mean), mean.Length, n, "n, or empty to skip saving");
        Check.EmptyOrAtLeast(kernel, nameof(rstd), rstd.Length, n, "n, or empty to skip saving");
        Check.EmptyOrAtLeast(kernel, nameof(needed), needed.Length, n, "n, or empty for every row");
        if ((long)n * d == 0) return;
        fixed (T* px = x, pw = w, pb = b, py = y, pMean = mean, pRstd = rstd, pNeeded = needed)
        {
            var state = new State<T> { X = px, W = pw, B = pb, Y = py, Mean = pMean, Rstd = pRstd, Needed = pNeeded, D = d, Eps = eps };
            ForkJoin.For(n, &state, &ForwardRows<T>, ParallelWork.MinBlock(n, d));
        }
    }

    /// <summary>
    /// Accumulates the gradients of <see cref="Forward{T}"/> (llm.c's layernorm_backward), with
    /// x̂ = (x − mean)·rstd and dnorm = dy ⊙ w:
    /// dx += (dnorm − mean(dnorm) − x̂·mean(dnorm ⊙ x̂))·rstd,  dw += Σ_rows dy ⊙ x̂,  db += Σ_rows dy.
    /// dy, x, dx are (n, d); w is (d) or empty (scale 1); mean, rstd are (n) from Forward;
    /// dw and db are (d), each skipped when empty. With <paramref name="accumulateDx"/> false, dx is
    /// overwritten instead (its old contents, even NaN, are never read); dw and db always accumulate.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, int n, int d, bool accumulateDx = true)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Backward(dy, x, w, mean, rstd, dx, dw, db, n, d, accumulateDx, onePassAllowed: true);

    /// <summary><see cref="Backward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, int, int, bool)"/> always as a row pass then a column pass (what the one-pass version must equal; tests).</summary>
    internal static void BackwardInTwoPasses<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, int n, int d, bool accumulateDx)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Backward(dy, x, w, mean, rstd, dx, dw, db, n, d, accumulateDx, onePassAllowed: false);

    static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, int n, int d, bool accumulateDx, bool onePassAllowed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "LayerNorm.Backward";
        CheckCommon(kernel, x.Length, w.Length, n, d);
        Check.AtLeast(kernel, nameof(dy), dy.Length, (long)n * d, "n·d");
        Check.AtLeast(kernel, nameof(dx), dx.Length, (long)n * d, "n·d");
        Check.AtLeast(kernel, nameof(mean), mean.Length, n, "n");
        Check.AtLeast(kernel, nameof(rstd), rstd.Length, n, "n");
        Check.EmptyOrAtLeast(kernel, nameof(dw), dw.Length, d, "d, or empty to skip");
        Check.EmptyOrAtLeast(kernel, nameof(db), db.Length, d, "d, or empty to skip");
        if ((long)n * d == 0) return;
        fixed (T* pdy = dy, px = x, pw = w, pMean = mean, pRstd = rstd, pdx = dx, pdw = dw, pdb = db)
        {
            var state = new State<T>
            {
                DY = pdy, X = px, W = pw, Mean = pMean, Rstd = pRstd, DX = pdx, DW = pdw, DB = pdb, N = n, D = d,
                AccumulateDx = accumulateDx,
            };
            if (onePassAllowed && ParallelWork.MinBlock(n, d) >= n && Vector512.IsHardwareAccelerated)
            {
                // Small enough for one thread: one pass, dw and db summed row by row as the rows go by —
                // the order of the column pass below, so the same bits.
                OneThreadBackward(&state);
                return;
            }
            ForkJoin.For(n, &state, &BackwardRows<T>, ParallelWork.MinBlock(n, d));
            if (pdw != null || pdb != null)
            {
                int blocks = (d + ColumnBlock - 1) / ColumnBlock;
                ForkJoin.For(blocks, &state, &ParameterGradientColumns<T>, ParallelWork.MinBlock(blocks, (long)n * ColumnBlock));
            }
        }
    }

    static void CheckCommon(string kernel, int xLength, int wLength, int n, int d)
    {
        Check.NonNegative(kernel, nameof(n), n);
        Check.NonNegative(kernel, nameof(d), d);
        Check.AtLeast(kernel, "x", xLength, (long)n * d, "n·d");
        Check.EmptyOrAtLeast(kernel, "w", wLength, d, "d, or empty for no scale");
    }

    struct State<T> where T : unmanaged
    {
        public T* X, W, B, Y, Mean, Rstd, DY, DX, DW, DB;
        public T* Needed;   // forward: rows whose entry is 0 are skipped (null: none)
        public int N, D;
        public T Eps;
        public bool AccumulateDx;
    }

    static void ForwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        bool fused = LibrarySumOrder.Applies<T>(s->D);
        for (int row = begin; row < end; row++)
        {
            if (s->Needed != null && s->Needed[row] == T.Zero) SkippedRow(s, row);
            else if (fused) FusedRow(s, row);
            else ComposedRow(s, row);
        }
    }

    /// <summary>A row nobody reads: y, mean and rstd are 0 (rstd 0 makes its gradient 0).</summary>
    static void SkippedRow<T>(State<T>* s, int row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(s->Y + (long)row * s->D, s->D).Clear();
        if (s->Mean != null) s->Mean[row] = T.Zero;
        if (s->Rstd != null) s->Rstd[row] = T.Zero;
    }

    /// <summary>One row of <see cref="ForwardRows{T}"/> through TensorPrimitives calls: the definition of the bits.</summary>
    static void ComposedRow<T>(State<T>* s, int row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = s->D;
        T count = T.CreateChecked(d);
        var x = new ReadOnlySpan<T>(s->X + (long)row * d, d);
        var y = new Span<T>(s->Y + (long)row * d, d);
        T mean = TensorPrimitives.Sum(x) / count;
        TensorPrimitives.Subtract(x, mean, y);                       // y = x − mean
        T variance = TensorPrimitives.SumOfSquares<T>(y) / count;    // biased, two-pass
        T rstd = T.One / T.Sqrt(variance + s->Eps);
        ScaleAndShift(s->Y + (long)row * d, rstd, s->W, s->B, d);   // y = x̂ ⊙ w + b
        if (s->Mean != null) s->Mean[row] = mean;
        if (s->Rstd != null) s->Rstd[row] = rstd;
    }

    /// <summary>
    /// One row of <see cref="ForwardRows{T}"/> in a single pass that never stores x − mean: the two sums in the
    /// library's order (<see cref="LibrarySumOrder"/>) with the subtraction done on the fly, then
    /// y = ((x − mean)·rstd)·w + b with the same roundings as <see cref="ScaleAndShift{T}"/> — so y, mean and rstd
    /// equal the composed version's bit for bit (LayerNormTests), at a fraction of the calls per row.
    /// </summary>
    static void FusedRow<T>(State<T>* s, int row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = s->D;
        T count = T.CreateChecked(d);
        T* x = s->X + (long)row * d, y = s->Y + (long)row * d, w = s->W, b = s->B;
        T mean = LibrarySumOrder.Sum(x, d, new LibrarySumOrder.Identity<T>()) / count;
        T variance = LibrarySumOrder.Sum(x, d, new LibrarySumOrder.SquaredDeviation<T>(mean)) / count;
        T rstd = T.One / T.Sqrt(variance + s->Eps);
        var meanV = Vector512.Create(mean);
        var rstdV = Vector512.Create(rstd);
        int i = 0;
        for (; i <= d - Vector512<T>.Count; i += Vector512<T>.Count)
        {
            var v = (Vector512.Load(x + i) - meanV) * rstdV;
            if (w != null) v *= Vector512.Load(w + i);
            if (b != null) v += Vector512.Load(b + i);
            v.Store(y + i);
        }
        for (; i < d; i++)
        {
            T v = (x[i] - mean) * rstd;
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            y[i] = v;
        }
        if (s->Mean != null) s->Mean[row] = mean;
        if (s->Rstd != null) s->Rstd[row] = rstd;
    }

    /// <summary>Forward rows through TensorPrimitives calls, whatever the hardware: what <see cref="FusedRow{T}"/> must equal (tests only).</summary>
    internal static void ForwardComposed<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y,
        Span<T> mean, Span<T> rstd, int n, int d, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x, pw = w, pb = b, py = y, pMean = mean, pRstd = rstd)
        {
            var state = new State<T> { X = px, W = pw, B = pb, Y = py, Mean = pMean, Rstd = pRstd, D = d, Eps = eps };
            for (int row = 0; row < n; row++) ComposedRow(&state, row);
        }
    }

    /// <summary>
    /// y = ((y·rstd)·w) + b in one pass (w, b null: skipped), rounding each step as separate multiply, multiply
    /// and add passes would (no fused multiply-add), so the result is theirs bit for bit.
    /// </summary>
    static void ScaleAndShift<T>(T* y, T rstd, T* w, T* b, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && d >= Vector256<T>.Count)
        {
            var r = Vector256.Create(rstd);
            for (; i <= d - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.Load(y + i) * r;
                if (w != null) v *= Vector256.Load(w + i);
                if (b != null) v += Vector256.Load(b + i);
                v.Store(y + i);
            }
        }
        for (; i < d; i++)
        {
            T v = y[i] * rstd;
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            y[i] = v;
        }
    }

    static void BackwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int d = s->D;
        T count = T.CreateChecked(d);
        for (int row = begin; row < end; row++)
        {
            long start = (long)row * d;
            T mean = s->Mean[row], rstd = s->Rstd[row];
            RowSums(s->DY + start, s->X + start, s->W, mean, rstd, d, out T dnormSum, out T dnormXhatSum);
            AccumulateRowGradient(s->DY + start, s->X + start, s->W, mean, rstd,
                dnormSum / count, dnormXhatSum / count, s->DX + start, d, s->AccumulateDx);
        }
    }

    /// <summary>
    /// <see cref="BackwardRows{T}"/> over every row on this thread, with the parameter gradients added as each row is
    /// done: dx, dw and db get exactly the operations of the two-pass version, in the same order (the elementwise
    /// lines run 512 bits wide, which changes no element's arithmetic).
    /// </summary>
    static void OneThreadBackward<T>(State<T>* s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = s->D;
        T count = T.CreateChecked(d);
        for (int row = 0; row < s->N; row++)
        {
            long start = (long)row * d;
            T* dy = s->DY + start, x = s->X + start, dx = s->DX + start, w = s->W, dw = s->DW, db = s->DB;
            T mean = s->Mean[row], rstd = s->Rstd[row];
            RowSums(dy, x, w, mean, rstd, d, out T dnormSum, out T dnormXhatSum);
            T dnormMean = dnormSum / count, dnormXhatMean = dnormXhatSum / count;
            var meanV = Vector512.Create(mean);
            var rstdV = Vector512.Create(rstd);
            var dnormMeanV = Vector512.Create(dnormMean);
            var dnormXhatMeanV = Vector512.Create(dnormXhatMean);
            int i = 0;
            for (; i + Vector512<T>.Count <= d; i += Vector512<T>.Count)
            {
                var dyV = Vector512.Load(dy + i);
                var dnorm = w == null ? dyV : dyV * Vector512.Load(w + i);
                var xhat = (Vector512.Load(x + i) - meanV) * rstdV;
                var contribution = (dnorm - dnormMeanV - xhat * dnormXhatMeanV) * rstdV;
                (s->AccumulateDx ? Vector512.Load(dx + i) + contribution : contribution).Store(dx + i);
                if (dw != null) (Vector512.Load(dw + i) + dyV * xhat).Store(dw + i);
                if (db != null) (Vector512.Load(db + i) + dyV).Store(db + i);
            }
            for (; i < d; i++)
            {
                T dnorm = w == null ? dy[i] : dy[i] * w[i];
                T xhat = (x[i] - mean) * rstd;
                T contribution = (dnorm - dnormMean - xhat * dnormXhatMean) * rstd;
                dx[i] = s->AccumulateDx ? dx[i] + contribution : contribution;
                if (dw != null) dw[i] += dy[i] * xhat;
                if (db != null) db[i] += dy[i];
            }
        }
    }

    /// <summary>Σ dnorm and Σ dnorm·x̂ over one row (dnorm = dy·w, x̂ = (x − mean)·rstd).</summary>
    static void RowSums<T>(T* dy, T* x, T* w, T mean, T rstd, int d, out T dnormSum, out T dnormXhatSum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        dnormSum = T.Zero;
        dnormXhatSum = T.Zero;
        if (Vector256.IsHardwareAccelerated && d >= Vector256<T>.Count)
        {
            Vector256<T> meanV = Vector256.Create(mean), rstdV = Vector256.Create(rstd), sum = default, sumXhat = default;
            for (; i + Vector256<T>.Count <= d; i += Vector256<T>.Count)
            {
                var dnorm = w == null ? Vector256.Load(dy + i) : Vector256.Load(dy + i) * Vector256.Load(w + i);
                var xhat = (Vector256.Load(x + i) - meanV) * rstdV;
                sum += dnorm;
                sumXhat += dnorm * xhat;
            }
            dnormSum = Vector256.Sum(sum);
            dnormXhatSum = Vector256.Sum(sumXhat);
        }
        for (; i < d; i++)
        {
            T dnorm = w == null ? dy[i] : dy[i] * w[i];
            dnormSum += dnorm;
            dnormXhatSum += dnorm * ((x[i] - mean) * rstd);
        }
    }

    /// <summary>dx (+)= (dnorm − dnormMean − x̂·dnormXhatMean)·rstd over one row: adds when <paramref name="accumulate"/>, else overwrites.</summary>
    static void AccumulateRowGradient<T>(T* dy, T* x, T* w, T mean, T rstd, T dnormMean, T dnormXhatMean, T* dx, int d, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> meanV = Vector256.Create(mean), rstdV = Vector256.Create(rstd);
            Vector256<T> dnormMeanV = Vector256.Create(dnormMean), dnormXhatMeanV = Vector256.Create(dnormXhatMean);
            for (; i + Vector256<T>.Count <= d; i += Vector256<T>.Count)
            {
                var dnorm = w == null ? Vector256.Load(dy + i) : Vector256.Load(dy + i) * Vector256.Load(w + i);
                var xhat = (Vector256.Load(x + i) - meanV) * rstdV;
                var contribution = (dnorm - dnormMeanV - xhat * dnormXhatMeanV) * rstdV;
                (accumulate ? Vector256.Load(dx + i) + contribution : contribution).Store(dx + i);
            }
        }
        for (; i < d; i++)
        {
            T dnorm = w == null ? dy[i] : dy[i] * w[i];
            T xhat = (x[i] - mean) * rstd;
            T contribution = (dnorm - dnormMean - xhat * dnormXhatMean) * rstd;
            dx[i] = accumulate ? dx[i] + contribution : contribution;
        }
    }

    /// <summary>dw[c] += Σ_rows dy·x̂ and db[c] += Σ_rows dy for the columns of blocks [begin, end), rows in order.</summary>
    static void ParameterGradientColumns<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int d = s->D;
        T* dw = stackalloc T[ColumnBlock], db = stackalloc T[ColumnBlock];
        for (int block = begin; block < end; block++)
        {
            int first = block * ColumnBlock, columns = Math.Min(first + ColumnBlock, d) - first;
            // Each column still sums its rows in row order, starting from its old value: the bits of one pass over all columns.
            if (s->DW != null) new Span<T>(s->DW + first, columns).CopyTo(new Span<T>(dw, columns));
            if (s->DB != null) new Span<T>(s->DB + first, columns).CopyTo(new Span<T>(db, columns));
            for (int row = 0; row < s->N; row++)
            {
                long start = (long)row * d + first;
                T* dy = s->DY + start, x = s->X + start;
                if (s->DW != null) AccumulateDw(dy, x, s->Mean[row], s->Rstd[row], dw, columns);
                if (s->DB != null)
                {
                    var dbSpan = new Span<T>(db, columns);
                    TensorPrimitives.Add(dbSpan, new ReadOnlySpan<T>(dy, columns), dbSpan);
                }
            }
            if (s->DW != null) new Span<T>(dw, columns).CopyTo(new Span<T>(s->DW + first, columns));
            if (s->DB != null) new Span<T>(db, columns).CopyTo(new Span<T>(s->DB + first, columns));
        }
    }

    /// <summary>dw[i] += dy[i]·(x[i] − mean)·rstd.</summary>
    static void AccumulateDw<T>(T* dy, T* x, T mean, T rstd, T* dw, int columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> meanV = Vector256.Create(mean), rstdV = Vector256.Create(rstd);
            for (; i + Vector256<T>.Count <= columns; i += Vector256<T>.Count)
                (Vector256.Load(dw + i) + Vector256.Load(dy + i) * ((Vector256.Load(x + i) - meanV) * rstdV)).Store(dw + i);
        }
        for (; i < columns; i++) dw[i] += dy[i] * ((x[i] - mean) * rstd);
    }
}
