using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Forge.Bench.Kernels;

/// <summary>Short job, median, allocations, and the GB/s and GFLOP/s columns of <see cref="KernelBenchmarks"/>.</summary>
public class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150)).WithId("Short"));
        AddColumn(StatisticColumn.Median);
        AddColumn(RateColumn.GigabytesPerSecond(c => KernelBenchmarks.Bytes(Kernel(c))));
        AddColumn(RateColumn.Gflops(c => KernelBenchmarks.Flops(Kernel(c))));
        AddDiagnoser(MemoryDiagnoser.Default);
    }

    static KernelBenchmarks.Kernel Kernel(BenchmarkDotNet.Running.BenchmarkCase c) => (KernelBenchmarks.Kernel)c.Parameters["Case"];
}
