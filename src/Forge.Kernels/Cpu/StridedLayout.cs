namespace Forge.Kernels;

/// <summary>
/// The iteration layout of one or two strided operands over a shape walked in row-major order
/// (the order of a contiguous output). The constructor coalesces the shape: it drops size-1 axes and
/// merges neighbouring axes that every operand steps through as one (outer stride = inner stride ×
/// inner size), so a contiguous tensor becomes one long row and a broadcast bias add becomes
/// (rows, cols) with strides (0, 1). Kernels then process the innermost axis as "rows" with SIMD and
/// walk the outer axes with a <see cref="StridedCursor"/>.
/// <para>Lives on the caller's stack (fixed buffers) so kernels can hand it to worker threads by pointer.</para>
/// </summary>
internal unsafe struct StridedLayout
{
    /// <summary>Most axes a strided kernel accepts.</summary>
    public const int MaxRank = 16;

    /// <summary>Axes after coalescing (≥ 1).</summary>
    public int Rank;
    public fixed int Dims[MaxRank];
    public fixed int StridesA[MaxRank];
    public fixed int StridesB[MaxRank];

    /// <summary>Coalesces <paramref name="shape"/> for operands A and B (pass A's strides twice for one operand).</summary>
    public StridedLayout(ReadOnlySpan<int> shape, ReadOnlySpan<int> stridesA, ReadOnlySpan<int> stridesB)
    {
        int rank = 0;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            int dim = shape[axis];
            if (dim == 1) continue;
            if (rank > 0 && Merges(StridesA[rank - 1], stridesA[axis], dim) && Merges(StridesB[rank - 1], stridesB[axis], dim))
            {
                Dims[rank - 1] *= dim;
                StridesA[rank - 1] = stridesA[axis];
                StridesB[rank - 1] = stridesB[axis];
                continue;
            }
            Dims[rank] = dim;
            StridesA[rank] = stridesA[axis];
            StridesB[rank] = stridesB[axis];
            rank++;
        }
        if (rank == 0)
        {
            Dims[0] = 1;
            StridesA[0] = 0;
            StridesB[0] = 0;
            rank = 1;
        }
        Rank = rank;
    }

    static bool Merges(int outerStride, int innerStride, int innerDim) => outerStride == (long)innerStride * innerDim;

    /// <summary>Length of the innermost (row) axis.</summary>
    public readonly int RowLength => Dims[Rank - 1];

    public readonly int InnerStrideA => StridesA[Rank - 1];

    public readonly int InnerStrideB => StridesB[Rank - 1];

    /// <summary>Number of rows: the product of all but the innermost axis.</summary>
    public readonly int RowCount
    {
        get
        {
            int rows = 1;
            for (int axis = 0; axis < Rank - 1; axis++) rows *= Dims[axis];
            return rows;
        }
    }

    /// <summary>
    /// True when operand A's view never maps two indices to the same element, so rows may be
    /// written by different threads. This is the usual sufficient test: sorted by |stride|, each
    /// axis must step past everything the smaller axes can reach.
    /// </summary>
    public readonly bool IsANonOverlapping()
    {
        long* strides = stackalloc long[MaxRank];
        int* dims = stackalloc int[MaxRank];
        for (int axis = 0; axis < Rank; axis++)
        {
            if (Dims[axis] > 1 && StridesA[axis] == 0) return false;
            // Insertion sort by |stride|: ranks are tiny.
            long stride = Math.Abs((long)StridesA[axis]);
            int at = axis;
            while (at > 0 && strides[at - 1] > stride)
            {
                strides[at] = strides[at - 1];
                dims[at] = dims[at - 1];
                at--;
            }
            strides[at] = stride;
            dims[at] = Dims[axis];
        }
        long reach = 0;
        for (int axis = 0; axis < Rank; axis++)
        {
            if (dims[axis] <= 1) continue;
            if (strides[axis] <= reach) return false;
            reach += (dims[axis] - 1) * strides[axis];
        }
        return true;
    }
}

/// <summary>
/// Walks the rows of a <see cref="StridedLayout"/>: tracks the multi-index of the outer axes and
/// the element offsets of operands A and B at the start of the current row.
/// </summary>
internal unsafe struct StridedCursor
{
    fixed int _index[StridedLayout.MaxRank];

    /// <summary>Offset of the current row's first element in operand A / B.</summary>
    public int OffsetA, OffsetB;

    /// <summary>Positions the cursor at the start of row <paramref name="row"/>.</summary>
    public void Seek(in StridedLayout layout, int row, int baseA, int baseB)
    {
        OffsetA = baseA;
        OffsetB = baseB;
        for (int axis = layout.Rank - 2; axis >= 0; axis--)
        {
            int dim = layout.Dims[axis];
            int index = row % dim;
            row /= dim;
            _index[axis] = index;
            OffsetA += index * layout.StridesA[axis];
            OffsetB += index * layout.StridesB[axis];
        }
    }

    /// <summary>Moves to the next row (odometer step over the outer axes).</summary>
    public void Advance(in StridedLayout layout)
    {
        for (int axis = layout.Rank - 2; axis >= 0; axis--)
        {
            OffsetA += layout.StridesA[axis];
            OffsetB += layout.StridesB[axis];
            if (++_index[axis] < layout.Dims[axis]) return;
            OffsetA -= layout.Dims[axis] * layout.StridesA[axis];
            OffsetB -= layout.Dims[axis] * layout.StridesB[axis];
            _index[axis] = 0;
        }
    }
}
