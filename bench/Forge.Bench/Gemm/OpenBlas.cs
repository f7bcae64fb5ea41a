using System.Runtime.InteropServices;

namespace Forge.Bench.Gemm;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c> / <c>cblas_dgemm</c> through P/Invoke: the GEMM baseline every
/// benchmark run measures beside Forge's own. The library is looked up at run time (Debian's
/// <c>libopenblas0-pthread</c> installs <c>libopenblas.so.0</c>); when it is missing,
/// <see cref="IsAvailable"/> is false, <see cref="Missing"/> says why, and the OpenBLAS benchmarks are
/// left out of the run instead of failing.
/// </summary>
public static unsafe class OpenBlas
{
    // CBLAS enums: row-major storage and the transpose flags.
    const int RowMajor = 101, NoTrans = 111, Trans = 112;

    static readonly string[] LibraryNames =
    [
        "libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "libopenblas.dylib", "libopenblas.dll",
    ];

    static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> s_dgemm;
    static readonly delegate* unmanaged[Cdecl]<int, void> s_setThreads;

    static OpenBlas()
    {
        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm) ||
                !NativeLibrary.TryGetExport(handle, "cblas_dgemm", out var dgemm)) continue;
            s_sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            s_dgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)dgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var setThreads))
                s_setThreads = (delegate* unmanaged[Cdecl]<int, void>)setThreads;
            Library = name;
            return;
        }
        Missing = $"OpenBLAS not found (tried {string.Join(", ", LibraryNames)}); on Debian/Ubuntu: apt-get install libopenblas0-pthread";
    }

    /// <summary>Whether cblas_sgemm/cblas_dgemm were found.</summary>
    public static bool IsAvailable => s_sgemm != null;

    /// <summary>The library name that loaded, or null.</summary>
    public static string? Library { get; }

    /// <summary>Why OpenBLAS is not available (null when it is).</summary>
    public static string? Missing { get; }

    /// <summary>Sets OpenBLAS's own thread count (it has its own pool, apart from Forge's).</summary>
    public static void SetThreads(int threads)
    {
        Require();
        if (s_setThreads != null) s_setThreads(threads);
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C, row-major, the same arguments as <see cref="Forge.Kernels.Gemm.Run{T}"/>.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Require();
        fixed (float* pa = a, pb = b, pc = c)
            s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>The float64 twin of <see cref="Sgemm"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        Require();
        fixed (double* pa = a, pb = b, pc = c)
            s_dgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    static void Require()
    {
        if (!IsAvailable) throw new InvalidOperationException(Missing);
    }
}
