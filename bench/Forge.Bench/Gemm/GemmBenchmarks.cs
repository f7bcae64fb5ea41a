using BenchmarkDotNet.Attributes;
using Forge.Kernels.Threading;

namespace Forge.Bench.Gemm;

/// <summary>
/// Square GEMM, C = A·B with N×N operands, on one thread and on two (<see cref="ForkJoin.Threads"/>;
/// OpenBLAS gets the same count through <c>openblas_set_num_threads</c>): float32 (training) and
/// float64 (gradient checks), each against OpenBLAS's <c>cblas_sgemm</c>/<c>cblas_dgemm</c> in the
/// same run — the baseline, so the Ratio column is Forge's time / OpenBLAS's (below 1 = Forge faster).
/// The GFLOP/s column is 2·N³ / median time. Run:
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*GemmBenchmarks*'</c>
/// (without OpenBLAS installed the OpenBLAS rows are left out and a line says so).
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
public class GemmBenchmarks
{
    float[] _a = [], _b = [], _c = [];
    double[] _aDouble = [], _bDouble = [], _cDouble = [];

    [Params(64, 128, 256, 512, 1024)]
    public int N { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ForkJoin.Threads = Threads;
        if (OpenBlas.IsAvailable) OpenBlas.SetThreads(Threads);
        var random = new Random(42);
        _a = new float[N * N];
        _b = new float[N * N];
        _c = new float[N * N];
        for (int i = 0; i < _a.Length; i++)
        {
            _a[i] = random.NextSingle() - 0.5f;
            _b[i] = random.NextSingle() - 0.5f;
        }
        _aDouble = Array.ConvertAll(_a, x => (double)x);
        _bDouble = Array.ConvertAll(_b, x => (double)x);
        _cDouble = new double[N * N];
        if (OpenBlas.IsAvailable) CheckOpenBlasAgrees();
    }

    /// <summary>A wrong binding would make a fast-looking baseline of garbage: compare one product first.</summary>
    void CheckOpenBlasAgrees()
    {
        var forge = new float[N * N];
        Forge.Kernels.Gemm.Run(false, false, N, N, N, 1f, _a, N, _b, N, 0f, forge, N);
        OpenBlas.Sgemm(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);
        for (int i = 0; i < forge.Length; i++)
            if (MathF.Abs(forge[i] - _c[i]) > 1e-3f * (1 + MathF.Abs(forge[i])))
                throw new InvalidOperationException($"OpenBLAS and Forge disagree at {i}: {_c[i]} vs {forge[i]}");
    }

    [Benchmark, BenchmarkCategory("float32")]
    public void Sgemm() => Forge.Kernels.Gemm.Run(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);

    [Benchmark(Baseline = true), BenchmarkCategory("float32")]
    public void OpenBlasSgemm() => OpenBlas.Sgemm(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);

    [Benchmark, BenchmarkCategory("float64")]
    public void Dgemm() => Forge.Kernels.Gemm.Run(false, false, N, N, N, 1.0, _aDouble, N, _bDouble, N, 0.0, _cDouble, N);

    [Benchmark(Baseline = true), BenchmarkCategory("float64")]
    public void OpenBlasDgemm() => OpenBlas.Dgemm(false, false, N, N, N, 1.0, _aDouble, N, _bDouble, N, 0.0, _cDouble, N);

    /// <summary>Floating-point operations of one call: a multiply and an add per (i, j, p).</summary>
    public static double Flops(int n) => 2.0 * n * n * n;
}
