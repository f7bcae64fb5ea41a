namespace Forge.Kernels;

/// <summary>
/// Argument checks shared by <see cref="Gemm"/> and <see cref="GemmReference"/>: sizes are
/// non-negative, leading dimensions cover a row, and every span is long enough for its matrices.
/// Messages name the kernel, the argument and the sizes, so a wrong call is easy to trace.
/// </summary>
static class GemmArguments
{
    public static void Check(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        CheckSizes(m, n, k, batch: 1);
        Operand("a", "op(A)", transA, m, k, lda, aLength, stride: 0, batch: 1);
        Operand("b", "op(B)", transB, k, n, ldb, bLength, stride: 0, batch: 1);
        Operand("c", "C", false, m, n, ldc, cLength, stride: 0, batch: 1);
    }

    public static void CheckBatched(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, long strideA, int bLength, int ldb, long strideB,
        int cLength, int ldc, long strideC, int batch)
    {
        CheckSizes(m, n, k, batch);
        Operand("a", "op(A)", transA, m, k, lda, aLength, strideA, batch);
        Operand("b", "op(B)", transB, k, n, ldb, bLength, strideB, batch);
        Operand("c", "C", false, m, n, ldc, cLength, strideC, batch);
    }

    /// <summary>Elements one stored matrix spans: (rows − 1)·ld + cols, or 0 when it is empty.</summary>
    public static long Extent(bool trans, int rows, int cols, int ld)
    {
        int storedRows = trans ? cols : rows, storedCols = trans ? rows : cols;
        return storedRows == 0 || storedCols == 0 ? 0 : (long)(storedRows - 1) * ld + storedCols;
    }

    static void CheckSizes(int m, int n, int k, int batch)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
        {
            throw new ArgumentException(
                $"Gemm: sizes must be non-negative, got m={m}, n={n}, k={k}, batch={batch}.");
        }
    }

    /// <summary>Checks one operand, op(X) = (rows, cols), stored transposed when <paramref name="trans"/>.</summary>
    static void Operand(string name, string what, bool trans, int rows, int cols, int ld, int length, long stride, int batch)
    {
        int storedCols = trans ? rows : cols;
        string Shape() => $"{what} is ({rows}, {cols}), trans={trans}, ld{name}={ld}";
        if (ld < storedCols || ld < 0)
        {
            throw new ArgumentException(
                $"Gemm: ld{name}={ld} is smaller than a stored row of {name} ({storedCols} elements); {Shape()}.", name);
        }
        if (stride < 0)
        {
            throw new ArgumentException($"Gemm: stride{char.ToUpperInvariant(name[0])}={stride} must be non-negative.", name);
        }
        long extent = Extent(trans, rows, cols, ld);
        long needed = extent == 0 || batch == 0 ? 0 : (batch - 1) * stride + extent;
        if (length < needed)
        {
            string batchText = batch == 1 ? "" : $", batch={batch}, stride={stride}";
            throw new ArgumentException(
                $"Gemm: {name} has length {length} but needs at least {needed}; {Shape()}{batchText}.", name);
        }
    }
}
