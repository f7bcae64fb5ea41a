using BenchmarkDotNet.Attributes;
using Forge.Kernels.Threading;

namespace Forge.Bench.Gemm;

/// <summary>
/// The GEMM shapes a small transformer actually runs (batch 512 × 21 tokens = 10752 rows, width 96,
/// MLP 384, heads of 21 × 48): linear forward (x·Wᵀ), the weight gradient (dYᵀ·X, k = 10752), and
/// per-head attention scores (Q·Kᵀ) and mixing (P·V) as batched GEMMs. float32, one and two threads,
/// against OpenBLAS's <c>cblas_sgemm</c> (one call per matrix of a batch, as a framework would issue them).
/// </summary>
[Config(typeof(GemmShapeBenchmarkConfig))]
public class GemmShapeBenchmarks
{
    /// <summary>A named case: op(A) (m, k), op(B) (k, n), transposes, and how many independent matrices.</summary>
    public sealed record Shape(string Name, int M, int N, int K, bool TransA, bool TransB, int Batch)
    {
        public double Flops => 2.0 * M * N * K * Batch;
        public override string ToString() => Name;
    }

    public static IEnumerable<Shape> Shapes =>
    [
        new("x*W^T 10752x96x96", 10752, 96, 96, false, true, 1),
        new("x*W^T 10752x384x96", 10752, 384, 96, false, true, 1),
        new("dY^T*X 96x384x10752", 96, 384, 10752, true, false, 1),
        new("Q*K^T 1024x 21x21x48", 21, 21, 48, false, true, 1024),
        new("P*V 1024x 21x48x21", 21, 48, 21, false, false, 1024),
    ];

    float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Shapes))]
    public Shape Case { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ForkJoin.Threads = Threads;
        if (OpenBlas.IsAvailable) OpenBlas.SetThreads(Threads);
        var random = new Random(42);
        _a = new float[Case.Batch * Case.M * Case.K];
        _b = new float[Case.Batch * Case.K * Case.N];
        _c = new float[Case.Batch * Case.M * Case.N];
        for (int i = 0; i < _a.Length; i++) _a[i] = random.NextSingle() - 0.5f;
        for (int i = 0; i < _b.Length; i++) _b[i] = random.NextSingle() - 0.5f;
    }

    [Benchmark]
    public void Sgemm()
    {
        var s = Case;
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        Forge.Kernels.Gemm.RunBatched(s.TransA, s.TransB, s.M, s.N, s.K, 1f, _a, lda, s.M * s.K,
            _b, ldb, s.K * s.N, 0f, _c, s.N, s.M * s.N, s.Batch);
    }

    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm()
    {
        var s = Case;
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        for (int i = 0; i < s.Batch; i++)
            OpenBlas.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, _a.AsSpan(i * s.M * s.K, s.M * s.K), lda,
                _b.AsSpan(i * s.K * s.N, s.K * s.N), ldb, 0f, _c.AsSpan(i * s.M * s.N, s.M * s.N), s.N);
    }
}
