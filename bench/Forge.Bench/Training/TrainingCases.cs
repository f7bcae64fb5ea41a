using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Bench.Training;

/// <summary>The models whose training step is timed (and raced against the PyTorch peers in bench/peers).</summary>
public enum TrainingCase { SortingBase, Affine3Layer, Retrieval, Lm4Layer }

/// <summary>
/// The four training steps, defined once for the BenchmarkDotNet benchmark and the <c>steps</c> timer.
/// bench/peers/torch_steps.py builds the same steps in PyTorch (same shapes, init scale, loss and
/// optimizer); keep the two in sync. Data is random (timing does not depend on the token values),
/// but each loss mask is the one the real task uses, so the loss covers the same positions.
/// </summary>
public static class TrainingCases
{
    /// <summary>Every case, in table order.</summary>
    public static readonly TrainingCase[] All = [TrainingCase.SortingBase, TrainingCase.Affine3Layer, TrainingCase.Retrieval, TrainingCase.Lm4Layer];

    /// <summary>The short name used on command lines (and by torch_steps.py): sorting, affine, retrieval, lm.</summary>
    public static string CliName(TrainingCase model) => model switch
    {
        TrainingCase.SortingBase => "sorting",
        TrainingCase.Affine3Layer => "affine",
        TrainingCase.Retrieval => "retrieval",
        TrainingCase.Lm4Layer => "lm",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>The case of a short name; throws an <see cref="ArgumentException"/> listing the valid names.</summary>
    public static TrainingCase Parse(string name)
    {
        foreach (var model in All)
            if (string.Equals(CliName(model), name, StringComparison.OrdinalIgnoreCase)) return model;
        throw new ArgumentException($"unknown case \"{name}\" (expected one of: {string.Join(", ", All.Select(CliName))})");
    }

    /// <summary>
    /// Sorting base (sorting.md): 1 layer, attention only, 2 heads, d_model 96, d_head 48, context 21,
    /// vocabulary 52, LayerNorm. Batch 512, cross-entropy on the 10 positions predicting the sorted
    /// list, Adam with coupled L2 weight decay 0.005, init N(0, (0.8/√96)²).
    /// </summary>
    public static readonly TransformerConfig Sorting = new() { NLayers = 1, NHeads = 2, DModel = 96, DHead = 48, NCtx = 21, DVocab = 52, DVocabOut = 52 };

    /// <summary>Affine recurrence (affine.md): 3 layers, d_model 64, 4 heads, d_mlp 256, 16 positions, scalar in and out. Batch 512, MSE, AdamW.</summary>
    public static readonly TransformerConfig Affine = new() { NLayers = 3, NHeads = 4, DModel = 64, DHead = 16, DMlp = 256, NCtx = 16, DVocab = 1, DVocabOut = 1, DIn = 1 };

    /// <summary>
    /// Retrieval (retrieval.md): GPT with MLP, 4 layers, d_model 128, 4 heads, d_mlp 512; context
    /// 4 chains × depth 8 × 2 tokens + QUERY + name = 66, vocabulary 100. Batch 128, cross-entropy on
    /// the last position only (it predicts the answer), AdamW lr 1e-3 wd 0.01.
    /// </summary>
    public static readonly TransformerConfig Retrieval = new() { NLayers = 4, NHeads = 4, DModel = 128, DHead = 32, DMlp = 512, NCtx = 66, DVocab = 100, DVocabOut = 100 };

    /// <summary>A small language model: 4 layers, d_model 128, 4 heads, d_mlp 512, context 64, vocabulary 512. Batch 32, next-token cross-entropy everywhere, AdamW.</summary>
    public static readonly TransformerConfig Lm = new() { NLayers = 4, NHeads = 4, DModel = 128, DHead = 32, DMlp = 512, NCtx = 64, DVocab = 512, DVocabOut = 512 };

    /// <summary>Builds the model, fills a random batch and records the step once, ready to replay.</summary>
    public static TrainingStep Build(TrainingCase model, ulong seed = 0, Device? device = null)
    {
        var rng = new Rng(seed);
        device ??= CpuDevice.Instance;
        return model switch
        {
            TrainingCase.SortingBase => TokenStep(Sorting, Initialization.Sorting, 512, rng, device, SortingMask,
                p => new Adam<float>(p, 1e-3, weightDecay: 0.005)),
            TrainingCase.Affine3Layer => RegressionStep(Affine, 512, rng, device),
            TrainingCase.Retrieval => TokenStep(Retrieval, Initialization.Gpt2, 128, rng, device, LastPositionMask,
                p => new Adam<float>(p, 1e-3, weightDecay: 0.01, decoupled: true)),
            TrainingCase.Lm4Layer => TokenStep(Lm, Initialization.Gpt2, 32, rng, device, EveryPositionMask,
                p => new Adam<float>(p, 3e-4, weightDecay: 0.01, decoupled: true)),
            _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
        };
    }

    // Loss masks, (pos): 1 where the prediction made at that position counts.
    // Sorting: [a_1..a_10, SEP, b_1..b_10]; the predictions at SEP (10) and at b_1..b_9 (11..19) give the sorted list.
    static bool SortingMask(int position, int positions) => position >= 10 && position < 20;
    // Retrieval: only the prediction at the last position (the queried name) is the answer.
    static bool LastPositionMask(int position, int positions) => position == positions - 1;
    // Language model: every prediction that has a next token.
    static bool EveryPositionMask(int position, int positions) => position < positions - 1;

    static TrainingStep TokenStep(TransformerConfig config, Initialization init, int batchSize, Rng rng, Device device,
        Func<int, int, bool> counts, Func<IEnumerable<Var<float>>, Optimizer<float>> optimizer)
    {
        var model = new Transformer<float>(config, init, rng, device);
        var batch = new TokenBatch<float>(batchSize, config.NCtx, device);
        // Targets are random tokens too (not the next input token), so the last position can carry one.
        Span<int> tokens = batch.HostTokens.AsSpan(), targets = batch.HostTargets.AsSpan();
        Span<float> mask = batch.HostMask.AsSpan();
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.NextInt(config.DVocab);
            targets[i] = rng.NextInt(config.DVocabOut);
            mask[i] = counts(i % config.NCtx, config.NCtx) ? 1f : 0f;
        }
        batch.Upload();
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);
        return new TrainingStep(tape, loss, optimizer(model.Parameters.All), model.Parameters.ElementCount);
    }

    static TrainingStep RegressionStep(TransformerConfig config, int batchSize, Rng rng, Device device)
    {
        var model = new Transformer<float>(config, Initialization.Gpt2, rng, device);
        var batch = new RegressionBatch<float>(batchSize, config.NCtx, config.DIn!.Value, config.DVocabOut, device);
        Tensor.Uniform(rng, -1f, 1f, batch.HostInputs.Shape).AsSpan().CopyTo(batch.HostInputs.AsSpan());
        Tensor.Uniform(rng, -1f, 1f, batch.HostTargets.Shape).AsSpan().CopyTo(batch.HostTargets.AsSpan());
        batch.Upload();
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = Functional.MseLoss(model.Forward(batch.Inputs), Var<float>.Constant(batch.Targets));
        var optimizer = new Adam<float>(model.Parameters.All, 1e-3, weightDecay: 0.01, decoupled: true);
        return new TrainingStep(tape, loss, optimizer, model.Parameters.ElementCount);
    }
}

/// <summary>One recorded training step: replayed forward, zeroed gradients, backward, optimizer update.</summary>
public sealed class TrainingStep(Tape<float> tape, Var<float> loss, Optimizer<float> optimizer, long parameterCount)
{
    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount { get; } = parameterCount;

    /// <summary>The loss of the last forward pass.</summary>
    public float Loss => loss.Item();

    /// <summary>
    /// Where one step's time goes, per op and direction (<see cref="TapeProfile"/>), largest first; on an
    /// ILGPU device every op is waited for, so its row is its own kernel time.
    /// </summary>
    public IReadOnlyList<TapeProfile.Row> Profile(int steps)
    {
        var device = loss.Data.Device as Forge.Kernels.Devices.IlgpuDevice;
        return TapeProfile.Measure(tape, loss, () => { optimizer.Step(); optimizer.ZeroGrad(); }, steps,
            synchronize: device is null ? null : device.Synchronize);
    }

    /// <summary>One step; allocates nothing. On an ILGPU device it waits for the queued kernels, so a timed step is a finished one.</summary>
    public void Run()
    {
        tape.Replay();
        optimizer.ZeroGrad();
        tape.Backward(loss);
        optimizer.Step();
        (loss.Data.Device as Forge.Kernels.Devices.IlgpuDevice)?.Synchronize();
    }
}
