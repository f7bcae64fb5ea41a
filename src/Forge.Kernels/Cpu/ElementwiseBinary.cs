using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

public static unsafe partial class Elementwise
{
    /// <summary>
    /// y = a op b with NumPy broadcasting expressed through strides: operand element
    /// <c>a[aOffset + Σ index[k]·aStrides[k]]</c> pairs with b's likewise, and y is the contiguous
    /// tensor of <paramref name="shape"/>. A stride of 0 broadcasts that axis; negative strides are
    /// allowed.
    /// <para>
    /// Paths, chosen per row of the coalesced layout (see <see cref="StridedLayout"/>): both rows
    /// contiguous → TensorPrimitives span–span; one row broadcast → span–scalar; anything else → a
    /// scalar strided loop. Outer axes are walked by an odometer; long work is split over
    /// <see cref="ForkJoin"/> by rows and fixed-size column chunks.
    /// </para>
    /// </summary>
    public static void Binary<T>(BinaryOp op, ReadOnlySpan<int> shape,
        ReadOnlySpan<T> a, int aOffset, ReadOnlySpan<int> aStrides,
        ReadOnlySpan<T> b, int bOffset, ReadOnlySpan<int> bStrides,
        Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Elementwise.Binary";
        long count = Check.Shape(kernel, nameof(shape), shape);
        Check.AtLeast(kernel, nameof(y), y.Length, count, "the product of shape");
        if ((uint)op > (uint)BinaryOp.Min) throw new ArgumentOutOfRangeException(nameof(op), op, $"{kernel}: unknown operation.");
        if (count == 0) return;
        Check.StridedView(kernel, nameof(a), shape, a.Length, aOffset, aStrides);
        Check.StridedView(kernel, nameof(b), shape, b.Length, bOffset, bStrides);

        var layout = new StridedLayout(shape, aStrides, bStrides);
        fixed (T* pa = a, pb = b, py = y)
        {
            int chunksPerRow = ParallelWork.ChunkCount(layout.RowLength);
            var state = new BinaryState<T>
            {
                Op = op, Layout = &layout, ChunksPerRow = chunksPerRow,
                A = pa, AOffset = aOffset, B = pb, BOffset = bOffset, Y = py,
            };
            int items = layout.RowCount * chunksPerRow;
            long itemLength = Math.Min(layout.RowLength, ParallelWork.ChunkLength);
            ForkJoin.For(items, &state, &BinaryItems<T>, ParallelWork.MinBlock(items, itemLength));
        }
    }

    /// <summary>Arguments of <see cref="Binary{T}"/> for worker threads. A work item is one chunk of one row.</summary>
    struct BinaryState<T> where T : unmanaged
    {
        public BinaryOp Op;
        public StridedLayout* Layout;
        public int ChunksPerRow;
        public T* A, B, Y;
        public int AOffset, BOffset;
    }

    static void BinaryItems<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var state = (BinaryState<T>*)statePointer;
        ref readonly StridedLayout layout = ref *state->Layout;
        int rowLength = layout.RowLength, chunksPerRow = state->ChunksPerRow;
        int strideA = layout.InnerStrideA, strideB = layout.InnerStrideB;
        int row = begin / chunksPerRow;
        var cursor = new StridedCursor();
        cursor.Seek(layout, row, state->AOffset, state->BOffset);
        for (int item = begin; item < end; item++)
        {
            int itemRow = item / chunksPerRow;
            if (itemRow != row) { cursor.Advance(layout); row = itemRow; }
            int column = (item - row * chunksPerRow) * ParallelWork.ChunkLength;
            int length = Math.Min(ParallelWork.ChunkLength, rowLength - column);
            BinaryRow(state->Op,
                state->A + cursor.OffsetA + (long)column * strideA, strideA,
                state->B + cursor.OffsetB + (long)column * strideB, strideB,
                new Span<T>(state->Y + (long)row * rowLength + column, length));
        }
    }

    /// <summary>y[i] = a[i·strideA] op b[i·strideB] for one row.</summary>
    static void BinaryRow<T>(BinaryOp op, T* a, int strideA, T* b, int strideB, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = y.Length;
        if (strideA == 1 && strideB == 1) SpanSpan(op, new ReadOnlySpan<T>(a, n), new ReadOnlySpan<T>(b, n), y);
        else if (strideA == 1 && strideB == 0) SpanScalar(op, new ReadOnlySpan<T>(a, n), *b, y);
        else if (strideA == 0 && strideB == 1) ScalarSpan(op, *a, new ReadOnlySpan<T>(b, n), y);
        else
        {
            switch (op)
            {
                case BinaryOp.Add: StridedRow<T, AddOperator<T>>(a, strideA, b, strideB, y); break;
                case BinaryOp.Sub: StridedRow<T, SubOperator<T>>(a, strideA, b, strideB, y); break;
                case BinaryOp.Mul: StridedRow<T, MulOperator<T>>(a, strideA, b, strideB, y); break;
                case BinaryOp.Div: StridedRow<T, DivOperator<T>>(a, strideA, b, strideB, y); break;
                case BinaryOp.Max: StridedRow<T, MaxOperator<T>>(a, strideA, b, strideB, y); break;
                default: StridedRow<T, MinOperator<T>>(a, strideA, b, strideB, y); break;
            }
        }
    }

    static void SpanSpan<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            default: TensorPrimitives.Min(a, b, y); break;
        }
    }

    static void SpanScalar<T>(BinaryOp op, ReadOnlySpan<T> a, T b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            default: TensorPrimitives.Min(a, b, y); break;
        }
    }

    static void ScalarSpan<T>(BinaryOp op, T a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            // Add, Mul, Max and Min are symmetric (IEEE maximum/minimum included).
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(b, a, y); break;
            default: TensorPrimitives.Min(b, a, y); break;
        }
    }

    static void StridedRow<T, TOperator>(T* a, int strideA, T* b, int strideB, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IBinaryOperator<T>
    {
        for (int i = 0; i < y.Length; i++)
            y[i] = TOperator.Apply(a[(long)i * strideA], b[(long)i * strideB]);
    }
}
