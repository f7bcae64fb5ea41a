using Forge.Experiments.Benchmarks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Forge.Kernels.Threading;

namespace Forge.Bench.Training;

/// <summary>
/// One full training step — replayed forward, backward, optimizer update — of each model of
/// <see cref="TrainingCases"/>, through the same allocation-free path the experiments use. Compare with
/// the PyTorch peers in bench/peers (step_race.py). <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*TrainingStep*'</c>
/// </summary>
[Config(typeof(TrainingStepConfig))]
public class TrainingStepBenchmarks
{
    [Params(TrainingCase.SortingBase, TrainingCase.Affine3Layer, TrainingCase.Retrieval, TrainingCase.Lm4Layer)]
    public TrainingCase Case { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    TrainingStep _step = null!;

    [GlobalSetup]
    public void Setup()
    {
        ForkJoin.Threads = Threads;
        _step = TrainingCases.Build(Case);
    }

    [Benchmark]
    public void Step() => _step.Run();
}

/// <summary>Short job with median and allocation columns (a step must allocate 0 bytes).</summary>
public class TrainingStepConfig : ManualConfig
{
    public TrainingStepConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(5).WithIterationCount(15).WithId("Short"));
        AddColumn(BenchmarkDotNet.Columns.StatisticColumn.Median);
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
