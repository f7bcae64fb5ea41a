using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Forge.Bench.Gemm;

/// <summary>
/// The FMA peak of one core with 256-bit and with 512-bit vectors: 12 independent FMA chains (enough
/// to cover latency × pipes), no memory traffic. Decides whether the GEMM microkernel should use
/// AVX-512: on CPUs that split 512-bit FMAs into two halves both rates are equal; where they differ,
/// 512-bit wins outright. GFLOP/s = 2 · lanes · 12 · Steps / median.
/// </summary>
[Config(typeof(FmaPeakBenchmarkConfig))]
public class FmaPeakBenchmarks
{
    /// <summary>Loop steps per call: 12 FMAs each.</summary>
    public const int Steps = 100_000;

    [Benchmark]
    public float Fma256()
    {
        var x = Vector256.Create(0.999f);
        var y = Vector256.Create(0.001f);
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < Steps; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [Benchmark]
    public float Fma512()
    {
        var x = Vector512.Create(0.999f);
        var y = Vector512.Create(0.001f);
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < Steps; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}

/// <summary>The short GEMM job, with GFLOP/s from the vector width of each method.</summary>
public class FmaPeakBenchmarkConfig : GemmBenchmarkConfig
{
    protected override double Flops(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase)
    {
        int lanes = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(FmaPeakBenchmarks.Fma512) ? 16 : 8;
        return 2.0 * lanes * 12 * FmaPeakBenchmarks.Steps;
    }
}
