using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;

namespace Forge.Bench.Gemm;

/// <summary>
/// A short job (one launch, 3 warm-ups, 10 measured iterations of ~150 ms) so that all GEMM cases
/// finish in a few minutes, plus the median, allocations and GFLOP/s columns. Benchmarks are grouped
/// by category (float32 / float64) so each compares with its own OpenBLAS baseline; OpenBLAS
/// benchmarks are left out, with a line saying why, when the library is not installed.
/// </summary>
public class GemmBenchmarkConfig : ManualConfig
{
    public GemmBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150))
            .WithId("Short"));
        AddColumn(StatisticColumn.Median);
        AddColumn(RateColumn.Gflops(Flops));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        if (!OpenBlas.IsAvailable)
        {
            Console.WriteLine($"// {OpenBlas.Missing}: the OpenBLAS baseline is skipped.");
            AddFilter(new SimpleFilter(c => !c.Descriptor.WorkloadMethod.Name.StartsWith("OpenBlas", StringComparison.Ordinal)));
        }
    }

    /// <summary>Floating-point operations of one call of the benchmark case.</summary>
    protected virtual double Flops(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        GemmBenchmarks.Flops((int)benchmarkCase.Parameters["N"]);
}
