using BenchmarkDotNet.Attributes;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Bench.Gemm;

/// <summary>
/// Square GEMM, C = A·B with N×N operands, on one thread and on two (<see cref="ForkJoin.Threads"/>):
/// float32 (training) and float64 (gradient checks). The GFLOP/s column is 2·N³ / median time. Run:
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*Gemm*'</c>
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
    }

    [Benchmark]
    public void Sgemm() => Forge.Kernels.Gemm.Run(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);

    [Benchmark]
    public void Dgemm() => Forge.Kernels.Gemm.Run(false, false, N, N, N, 1.0, _aDouble, N, _bDouble, N, 0.0, _cDouble, N);

    /// <summary>Floating-point operations of one call: a multiply and an add per (i, j, p).</summary>
    public static double Flops(int n) => 2.0 * n * n * n;
}
