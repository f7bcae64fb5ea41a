namespace Forge.Kernels.Ilgpu;

/// <summary>
/// A coalesced strided layout small enough to pass to a kernel by value: up to <see cref="MaxAxes"/>
/// axes (stored innermost first), each with a size and the element strides of two operands. ILGPU
/// kernels take no fixed buffers, so the axes are plain fields and the decode is unrolled.
/// <para>
/// The decode is 32-bit: a 64-bit division is a ~70-instruction subroutine in PTX, and the decode
/// divides once per axis for every element. The host wrappers guarantee that every index and offset
/// fits: the views they check are at most <see cref="int.MaxValue"/> elements long, and the launches
/// at most <see cref="int.MaxValue"/> threads (IlgpuGpuCompileTests asserts the PTX has no 64-bit
/// division).
/// </para>
/// </summary>
internal struct DeviceStrides
{
    /// <summary>Most axes after coalescing; enough for every view the models make (broadcasts and transposes of ≤ 4-D tensors).</summary>
    public const int MaxAxes = 6;

    public int Rank;
    public int Dim0, Dim1, Dim2, Dim3, Dim4, Dim5;
    public int A0, A1, A2, A3, A4, A5;
    public int B0, B1, B2, B3, B4, B5;

    /// <summary>From a host <see cref="StridedLayout"/> (outermost first there).</summary>
    public static unsafe DeviceStrides From(in StridedLayout layout, string kernel)
    {
        // Unused axes have size 1, not 0: the decode below may divide by every axis whatever Rank is (ILGPU turns its
        // ifs into selects), and in OpenCL C a division by zero is undefined behaviour a compiler may build on.
        var result = new DeviceStrides { Dim0 = 1, Dim1 = 1, Dim2 = 1, Dim3 = 1, Dim4 = 1, Dim5 = 1 };
        fixed (int* dims = layout.Dims, a = layout.StridesA, b = layout.StridesB)
            for (int axis = 0; axis < layout.Rank; axis++)
                result.Add(kernel, dims[layout.Rank - 1 - axis], a[layout.Rank - 1 - axis], b[layout.Rank - 1 - axis]);
        return result;
    }

    /// <summary>Appends an axis outside the ones already added (its size and strides for A and B).</summary>
    public void Add(string kernel, int dim, int strideA, int strideB)
    {
        if (Rank == MaxAxes)
            throw new NotSupportedException($"{kernel}: the view needs more than {MaxAxes} axes after merging contiguous ones.");
        switch (Rank++)
        {
            case 0: Dim0 = dim; A0 = strideA; B0 = strideB; break;
            case 1: Dim1 = dim; A1 = strideA; B1 = strideB; break;
            case 2: Dim2 = dim; A2 = strideA; B2 = strideB; break;
            case 3: Dim3 = dim; A3 = strideA; B3 = strideB; break;
            case 4: Dim4 = dim; A4 = strideA; B4 = strideB; break;
            default: Dim5 = dim; A5 = strideA; B5 = strideB; break;
        }
    }

    /// <summary>Adds the two operands' offsets of row-major index <paramref name="linear"/> to <paramref name="a"/> and <paramref name="b"/>.</summary>
    public readonly void Offsets(int linear, ref int a, ref int b)
    {
        Step(ref linear, ref a, ref b, Dim0, A0, B0);
        if (Rank > 1) Step(ref linear, ref a, ref b, Dim1, A1, B1);
        if (Rank > 2) Step(ref linear, ref a, ref b, Dim2, A2, B2);
        if (Rank > 3) Step(ref linear, ref a, ref b, Dim3, A3, B3);
        if (Rank > 4) Step(ref linear, ref a, ref b, Dim4, A4, B4);
        if (Rank > 5) Step(ref linear, ref a, ref b, Dim5, A5, B5);
    }

    static void Step(ref int linear, ref int a, ref int b, int dim, int strideA, int strideB)
    {
        int index = linear % dim;
        linear /= dim;
        a += index * strideA;
        b += index * strideB;
    }
}
