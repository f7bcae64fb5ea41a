using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Forge.Bench.Gemm;

/// <summary>
/// A short job (one launch, 3 warm-ups, 10 measured iterations of ~150 ms) so that all twenty GEMM cases
/// finish in a few minutes, plus the median, allocations and GFLOP/s columns.
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
        AddColumn(new GflopsColumn(Flops));
        AddDiagnoser(MemoryDiagnoser.Default);
    }

    /// <summary>Floating-point operations of one call of the benchmark case.</summary>
    protected virtual double Flops(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        GemmBenchmarks.Flops((int)benchmarkCase.Parameters["N"]);
}
