using System.Numerics;
namespace Forge.Kernels;

/// <summary>
/// The obviously-correct GEMM: plain triple loops with the same contract as <see cref="Gemm"/>.
/// Tests compare the fast kernels against it; nothing on a hot path calls it.
/// </summary>
public static class GemmReference
{
    /// <summary>C = alpha · op(A)·op(B) + beta · C, one dot product per element of C. See <see cref="Gemm.Run{T}"/>.</summary>
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                // Like BLAS, alpha == 0 means A and B are not read, and beta == 0 means C is not read.
                T sum = T.Zero;
                if (alpha != T.Zero)
                {
                    for (int p = 0; p < k; p++)
                    {
                        T aip = transA ? a[p * lda + i] : a[i * lda + p]; // op(A)[i, p]
                        T bpj = transB ? b[j * ldb + p] : b[p * ldb + j]; // op(B)[p, j]
                        sum += aip * bpj;
                    }
                }
                ref T cij = ref c[i * ldc + j];
                cij = beta == T.Zero ? alpha * sum : alpha * sum + beta * cij;
            }
        }
    }

    /// <summary><paramref name="batch"/> independent GEMMs; matrix i starts at i·stride (stride 0 broadcasts). See <see cref="Gemm.RunBatched{T}"/>.</summary>
    public static void RunBatched<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, long strideA, ReadOnlySpan<T> b, int ldb, long strideB,
        T beta, Span<T> c, int ldc, long strideC, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.CheckBatched(transA, transB, m, n, k, a.Length, lda, strideA, b.Length, ldb, strideB,
            c.Length, ldc, strideC, batch);
        for (int i = 0; i < batch; i++)
        {
            Run(transA, transB, m, n, k, alpha, From(a, i * strideA), lda, From(b, i * strideB), ldb,
                beta, From(c, i * strideC), ldc);
        }
    }

    // An empty matrix (m, n or k = 0) may start past the end of its span.
    static ReadOnlySpan<T> From<T>(ReadOnlySpan<T> span, long offset) => offset >= span.Length ? default : span[(int)offset..];
    static Span<T> From<T>(Span<T> span, long offset) => offset >= span.Length ? default : span[(int)offset..];
}
