using BenchmarkDotNet.Configs;

namespace Forge.Bench.Gemm;

/// <summary><see cref="GemmBenchmarkConfig"/>, with GFLOP/s computed from each case's own shape.</summary>
public class GemmShapeBenchmarkConfig : GemmBenchmarkConfig
{
    protected override double Flops(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        ((GemmShapeBenchmarks.Shape)benchmarkCase.Parameters["Case"]).Flops;
}
