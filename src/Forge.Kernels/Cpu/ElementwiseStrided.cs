using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

public static unsafe partial class Elementwise
{
    /// <summary>
    /// Strided gather into a contiguous tensor: y[index] = x[xOffset + Σ index[k]·xStrides[k]],
    /// y is the contiguous tensor of <paramref name="shape"/> (what <c>Contiguous()</c> does to a view).
    /// Stride 0 (broadcast) and negative strides are allowed.
    /// </summary>
    public static void Copy<T>(ReadOnlySpan<int> shape, ReadOnlySpan<T> x, int xOffset, ReadOnlySpan<int> xStrides, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Elementwise.Copy";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(y), y.Length, count, "the product of shape");
        if (count == 0) return;
        Check.StridedView(kernel, nameof(x), shape, x.Length, xOffset, xStrides);
        var layout = new StridedLayout(shape, xStrides, xStrides);
        fixed (T* px = x, py = y)
            RunStrided(StridedKind.Copy, &layout, px, xOffset, py, parallel: true);
    }

    /// <summary>
    /// Strided accumulation: y[yOffset + Σ index[k]·yStrides[k]] += x[index], x contiguous of
    /// <paramref name="shape"/>. The gradient of a view (slice, transpose, expand): where the view's
    /// strides make several indices land on one element of y (stride 0), their values are summed.
    /// Runs in parallel only when the view of y provably does not overlap itself.
    /// </summary>
    public static void AddStrided<T>(ReadOnlySpan<int> shape, ReadOnlySpan<T> x, Span<T> y, int yOffset, ReadOnlySpan<int> yStrides)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Elementwise.AddStrided";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(x), x.Length, count, "the product of shape");
        if (count == 0) return;
        Check.StridedView(kernel, nameof(y), shape, y.Length, yOffset, yStrides);
        var layout = new StridedLayout(shape, yStrides, yStrides);
        fixed (T* px = x, py = y)
            RunStrided(StridedKind.AddTo, &layout, py, yOffset, px, layout.IsANonOverlapping());
    }

    /// <summary>
    /// The gradient of broadcasting: target += x summed down to <paramref name="targetShape"/>.
    /// x is contiguous of <paramref name="fullShape"/>; <paramref name="targetShape"/> is aligned to the
    /// right of it (NumPy rules), each of its sizes equal to the full size or 1; missing leading axes
    /// and size-1 axes are summed over. target is contiguous of <paramref name="targetShape"/>.
    /// </summary>
    public static void ReduceBroadcast<T>(ReadOnlySpan<int> fullShape, ReadOnlySpan<T> x, ReadOnlySpan<int> targetShape, Span<T> target)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Elementwise.ReduceBroadcast";
        long count = Check.Shape(kernel, nameof(fullShape), fullShape);
        long targetCount = Check.Shape(kernel, nameof(targetShape), targetShape);
        Check.AtLeast(kernel, nameof(x), x.Length, count, "the product of fullShape");
        Check.AtLeast(kernel, nameof(target), target.Length, targetCount, "the product of targetShape");
        int rank = fullShape.Length, missing = rank - targetShape.Length;
        if (missing < 0) ThrowNotBroadcastable(fullShape, targetShape);
        if (count == 0) return;

        // Strides that map a full index to the target element it was broadcast from.
        int* targetStrides = stackalloc int[StridedLayout.MaxRank];
        int stride = 1;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int targetDim = axis >= missing ? targetShape[axis - missing] : 1;
            if (targetDim != fullShape[axis] && targetDim != 1) ThrowNotBroadcastable(fullShape, targetShape);
            targetStrides[axis] = axis >= missing && targetDim == fullShape[axis] ? stride : 0;
            stride *= targetDim;
        }
        var strides = new ReadOnlySpan<int>(targetStrides, rank);
        var layout = new StridedLayout(fullShape, strides, strides);

        // One summed axis after coalescing is exactly Reduce.Sum over (outer, axis, inner); use its
        // parallel, deterministic kernel. Several summed axes fall back to strided accumulation.
        int summedAxis = -1, summedAxes = 0;
        for (int axis = 0; axis < layout.Rank; axis++)
            if (layout.StridesA[axis] == 0 && layout.Dims[axis] > 1) { summedAxis = axis; summedAxes++; }
        if (summedAxes == 1)
        {
            int outer = 1, inner = 1;
            for (int axis = 0; axis < summedAxis; axis++) outer *= layout.Dims[axis];
            for (int axis = summedAxis + 1; axis < layout.Rank; axis++) inner *= layout.Dims[axis];
            Reduce.SumCore(x, outer, layout.Dims[summedAxis], inner, target, accumulate: true);
            return;
        }
        fixed (T* px = x, pt = target)
            RunStrided(StridedKind.AddTo, &layout, pt, 0, px, parallel: summedAxes == 0);
    }

    /// <summary>The same as <see cref="ReduceBroadcast{T}"/> (PyTorch's <c>sum_to_size</c> name): target += x summed to targetShape.</summary>
    public static void SumToShape<T>(ReadOnlySpan<int> fullShape, ReadOnlySpan<T> x, ReadOnlySpan<int> targetShape, Span<T> target)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ReduceBroadcast(fullShape, x, targetShape, target);

    static void ThrowNotBroadcastable(ReadOnlySpan<int> fullShape, ReadOnlySpan<int> targetShape) =>
        throw new ArgumentException(
            $"Elementwise.ReduceBroadcast: targetShape ({string.Join(", ", targetShape.ToArray())}) does not broadcast " +
            $"to fullShape ({string.Join(", ", fullShape.ToArray())}).", nameof(targetShape));

    enum StridedKind { Copy, AddTo }

    /// <summary>
    /// A strided operand (layout operand A, at <see cref="Strided"/>) paired with a contiguous one.
    /// Copy: contiguous ← strided. AddTo: strided += contiguous.
    /// </summary>
    struct StridedState<T> where T : unmanaged
    {
        public StridedKind Kind;
        public StridedLayout* Layout;
        public int ChunksPerRow;
        public T* Strided;
        public int StridedOffset;
        public T* Contiguous;
    }

    static void RunStrided<T>(StridedKind kind, StridedLayout* layout, T* strided, int stridedOffset, T* contiguous, bool parallel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunksPerRow = ParallelWork.ChunkCount(layout->RowLength);
        var state = new StridedState<T>
        {
            Kind = kind, Layout = layout, ChunksPerRow = chunksPerRow,
            Strided = strided, StridedOffset = stridedOffset, Contiguous = contiguous,
        };
        if (IsBatchedTranspose(*layout))
        {
            // Row-by-row gathers at a large stride touch a new cache line per element; tiles reuse them.
            int rows = layout->Dims[layout->Rank - 2], bands = (rows + TransposeTile - 1) / TransposeTile;
            int bandItems = layout->RowCount / rows * bands;
            long bandElements = (long)TransposeTile * layout->RowLength;
            ForkJoin.For(bandItems, &state, &TransposeItems<T>, parallel ? ParallelWork.MinBlock(bandItems, bandElements) : int.MaxValue);
            return;
        }
        int items = layout->RowCount * chunksPerRow;
        int minBlock = parallel ? ParallelWork.MinBlock(items, Math.Min(layout->RowLength, ParallelWork.ChunkLength)) : int.MaxValue;
        ForkJoin.For(items, &state, &StridedItems<T>, minBlock);
    }

    /// <summary>Side of the square tiles of the transpose path.</summary>
    const int TransposeTile = 16;

    /// <summary>
    /// Whether the strided operand walks its last two (coalesced) axes in swapped order: stride 1 on
    /// the second-to-last axis and a large stride on the last, i.e. a batch of matrix transposes.
    /// </summary>
    static bool IsBatchedTranspose(in StridedLayout layout) =>
        layout.Rank >= 2 && layout.StridesA[layout.Rank - 2] == 1 && layout.InnerStrideA is not (0 or 1);

    /// <summary>
    /// Work item = (matrix of the batch, band of <see cref="TransposeTile"/> rows). Element (r, c) of a
    /// matrix is at r·cols + c in the contiguous operand and at r + c·stride in the strided one.
    /// </summary>
    static void TransposeItems<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var state = (StridedState<T>*)statePointer;
        ref readonly StridedLayout layout = ref *state->Layout;
        int rank = layout.Rank, rows = layout.Dims[rank - 2], cols = layout.Dims[rank - 1], stride = layout.StridesA[rank - 1];
        int bands = (rows + TransposeTile - 1) / TransposeTile;
        bool copy = state->Kind == StridedKind.Copy;
        for (int item = begin; item < end; item++)
        {
            int matrix = item / bands, firstRow = item % bands * TransposeTile, endRow = Math.Min(rows, firstRow + TransposeTile);
            long stridedOffset = state->StridedOffset;
            for (int axis = rank - 3, rest = matrix; axis >= 0; axis--)
            {
                stridedOffset += (long)(rest % layout.Dims[axis]) * layout.StridesA[axis];
                rest /= layout.Dims[axis];
            }
            T* contiguousMatrix = state->Contiguous + (long)matrix * rows * cols;
            for (int firstColumn = 0; firstColumn < cols; firstColumn += TransposeTile)
            {
                int endColumn = Math.Min(cols, firstColumn + TransposeTile);
                for (int r = firstRow; r < endRow; r++)
                {
                    T* contiguous = contiguousMatrix + (long)r * cols;
                    T* strided = state->Strided + stridedOffset + r;
                    if (copy)
                        for (int c = firstColumn; c < endColumn; c++) contiguous[c] = strided[(long)c * stride];
                    else
                        for (int c = firstColumn; c < endColumn; c++) strided[(long)c * stride] += contiguous[c];
                }
            }
        }
    }

    static void StridedItems<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var state = (StridedState<T>*)statePointer;
        ref readonly StridedLayout layout = ref *state->Layout;
        int rowLength = layout.RowLength, chunksPerRow = state->ChunksPerRow, stride = layout.InnerStrideA;
        int row = begin / chunksPerRow;
        var cursor = new StridedCursor();
        cursor.Seek(layout, row, state->StridedOffset, 0);
        for (int item = begin; item < end; item++)
        {
            int itemRow = item / chunksPerRow;
            if (itemRow != row) { cursor.Advance(layout); row = itemRow; }
            int column = (item - row * chunksPerRow) * ParallelWork.ChunkLength;
            int length = Math.Min(ParallelWork.ChunkLength, rowLength - column);
            T* strided = state->Strided + cursor.OffsetA + (long)column * stride;
            var contiguous = new Span<T>(state->Contiguous + (long)row * rowLength + column, length);
            if (state->Kind == StridedKind.Copy) GatherRow(strided, stride, contiguous);
            else AddToRow(strided, stride, contiguous);
        }
    }

    /// <summary>y[i] = x[i·stride].</summary>
    static void GatherRow<T>(T* x, int stride, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (stride == 1) new ReadOnlySpan<T>(x, y.Length).CopyTo(y);
        else if (stride == 0) y.Fill(*x);
        else for (int i = 0; i < y.Length; i++) y[i] = x[(long)i * stride];
    }

    /// <summary>y[i·stride] += x[i].</summary>
    static void AddToRow<T>(T* y, int stride, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (stride == 1)
        {
            var row = new Span<T>(y, x.Length);
            TensorPrimitives.Add(row, x, row);
        }
        else if (stride == 0) *y += TensorPrimitives.Sum(x);
        else for (int i = 0; i < x.Length; i++) y[(long)i * stride] += x[i];
    }
}
