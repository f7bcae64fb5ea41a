using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Kernels.Threading;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Bench.Training;

/// <summary>
/// One full training step — replayed forward, backward, optimizer update — of each model of the
/// papers, through the same allocation-free path the experiments use. Compare with the PyTorch peers
/// in bench/peers. <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*TrainingStep*'</c>
/// </summary>
[Config(typeof(TrainingStepConfig))]
public class TrainingStepBenchmarks
{
    public enum Model { SortingBase, Affine3Layer, Lm4Layer }

    [Params(Model.SortingBase, Model.Affine3Layer, Model.Lm4Layer)]
    public Model Case { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    Tape<float> _tape = null!;
    Var<float> _loss = null!;
    Optimizer<float> _optimizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        ForkJoin.Threads = Threads;
        var rng = new Rng(0);
        (_tape, _loss, _optimizer) = Case switch
        {
            Model.SortingBase => TokenStep(new TransformerConfig { NLayers = 1, NHeads = 2, DModel = 96, DHead = 48, NCtx = 21, DVocab = 52, DVocabOut = 52 },
                Initialization.Sorting, batch: 512, rng, o => new Adam<float>(o, 1e-3, weightDecay: 0.005)),
            Model.Lm4Layer => TokenStep(new TransformerConfig { NLayers = 4, NHeads = 4, DModel = 128, DHead = 32, DMlp = 512, NCtx = 64, DVocab = 512, DVocabOut = 512 },
                Initialization.Gpt2, batch: 32, rng, o => new Adam<float>(o, 3e-4, weightDecay: 0.01, decoupled: true)),
            _ => RegressionStep(rng),
        };
    }

    static (Tape<float>, Var<float>, Optimizer<float>) TokenStep(TransformerConfig config, Initialization init, int batch, Rng rng,
        Func<IEnumerable<Var<float>>, Optimizer<float>> optimizer)
    {
        var model = new Transformer<float>(config, init, rng);
        var tokens = new TokenBatch<float>(batch, config.NCtx);
        var sequence = new int[config.NCtx];
        var mask = Enumerable.Repeat(1f, config.NCtx).ToArray();
        for (int row = 0; row < batch; row++)
        {
            for (int p = 0; p < sequence.Length; p++) sequence[p] = rng.NextInt(config.DVocab);
            tokens.SetRow(row, sequence, mask);
        }
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = model.Forward(tokens.Tokens).CrossEntropy(tokens.Targets, tokens.Mask);
        return (tape, loss, optimizer(model.Parameters.All));
    }

    /// <summary>The affine-recurrence GPT of affine.md: 3 layers, d_model 64, 4 heads, d_mlp 256, 16 positions, scalar inputs, batch 512, MSE, AdamW.</summary>
    static (Tape<float>, Var<float>, Optimizer<float>) RegressionStep(Rng rng)
    {
        var config = new TransformerConfig { NLayers = 3, NHeads = 4, DModel = 64, DHead = 16, DMlp = 256, NCtx = 16, DVocab = 1, DVocabOut = 1, DIn = 1 };
        var model = new Transformer<float>(config, Initialization.Gpt2, rng);
        var batch = new RegressionBatch<float>(512, 16, 1, 1);
        Tensor.Uniform(rng, -1f, 1f, 512, 16, 1).AsSpan().CopyTo(batch.Inputs.AsSpan());
        Tensor.Uniform(rng, -1f, 1f, 512, 16, 1).AsSpan().CopyTo(batch.Targets.AsSpan());
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = Functional.MseLoss(model.Forward(batch.Inputs), Var<float>.Constant(batch.Targets));
        return (tape, loss, new Adam<float>(model.Parameters.All, 1e-3, weightDecay: 0.01, decoupled: true));
    }

    [Benchmark]
    public void Step()
    {
        _tape.Replay();
        _optimizer.ZeroGrad();
        _tape.Backward(_loss);
        _optimizer.Step();
    }
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
