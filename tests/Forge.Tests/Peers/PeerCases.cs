using Forge.Experiments.Sorting;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;

namespace Forge.Tests.Peers;

/// <summary>One model and one batch for the PyTorch comparison: a checkpoint and a batch file on disk.</summary>
public sealed record PeerCase(string Name, TransformerConfig Config, Func<Rng, SafeTensorsFile> Batch)
{
    public override string ToString() => Name;

    /// <summary>
    /// A model with every parameter mattering: weights redrawn at a scale where attention patterns are
    /// far from uniform and the GELU is non-linear (GPT-2's N(0, 0.02²) would make everything near-linear
    /// and every gradient tiny), LayerNorm weights away from 1 and all biases away from 0.
    /// </summary>
    public Transformer<float> Model(ulong seed)
    {
        var rng = new Rng(seed);
        var model = new Transformer<float>(Config, Initialization.Gpt2, rng);
        float weightScale = 0.8f / MathF.Sqrt(Config.DModel);
        foreach (var p in model.Parameters.All)
        {
            string name = p.Name!;
            bool layerNormWeight = name.EndsWith(".w", StringComparison.Ordinal);
            bool bias = name.EndsWith(".b", StringComparison.Ordinal) || name.Contains(".b_", StringComparison.Ordinal);
            float mean = layerNormWeight ? 1f : 0f;
            float std = layerNormWeight ? 0.2f : bias ? 0.1f : name == "embed.W_E" && Config.IsContinuous ? 1f : weightScale;
            Tensor.Normal(rng, mean, std, p.Shape).AsSpan().CopyTo(p.Data.AsSpan());
        }
        return model;
    }

    /// <summary>The sorting model of the paper: one attention-only layer, 2 heads, lists of 10 numbers from 0..50.</summary>
    public static PeerCase Sorting { get; } = new("sorting",
        new TransformerConfig { NLayers = 1, NHeads = 2, DModel = 96, DHead = 48, DMlp = null, NCtx = 21, DVocab = 52, DVocabOut = 52 },
        rng =>
        {
            var task = new SortingTask();
            const int rows = 16;
            var tokens = new int[rows * task.Context];
            var mask = new float[rows * task.Context];
            for (int r = 0; r < rows; r++)
            {
                task.Sample(rng, tokens.AsSpan(r * task.Context, task.Context));
                task.PositionMask().CopyTo(mask.AsSpan(r * task.Context));   // positions 10..19 count
            }
            return TokenBatch(Tensor.FromArray(tokens, [rows, task.Context]), Tensor.FromArray(mask, [rows, task.Context]));
        });

    /// <summary>A small 2-layer GPT with MLPs, every next-token prediction counted (no mask).</summary>
    public static PeerCase Gpt { get; } = new("gpt-2-layers",
        new TransformerConfig { NLayers = 2, NHeads = 4, DModel = 32, DHead = 8, DMlp = 64, NCtx = 16, DVocab = 23, DVocabOut = 23 },
        rng => TokenBatch(RandomTokens(rng, 4, 16, 23), mask: null));

    /// <summary>No LayerNorm anywhere (no ln parameters at all), MLPs, fewer positions than n_ctx, a random 0/1 mask.</summary>
    public static PeerCase NoNormalization { get; } = new("no-normalization",
        new TransformerConfig { NLayers = 2, NHeads = 3, DModel = 24, DHead = 8, DMlp = 48, NCtx = 12, DVocab = 17, DVocabOut = 17, Normalization = "none" },
        rng =>
        {
            var mask = new float[3 * 10];
            for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextInt(3) == 0 ? 0f : 1f;
            return TokenBatch(RandomTokens(rng, 3, 10, 17), Tensor.FromArray(mask, [3, 10]));
        });

    /// <summary>A continuous model (d_in 1 → d_out 1) regressing on real inputs with the mean squared error.</summary>
    public static PeerCase Continuous { get; } = new("continuous",
        new TransformerConfig { NLayers = 2, NHeads = 2, DModel = 16, DHead = 8, DMlp = 32, NCtx = 10, DVocab = 1, DVocabOut = 1, DIn = 1 },
        rng =>
        {
            var batch = new SafeTensorsFile();
            batch.Add("inputs", Tensor.Normal(rng, 0f, 1f, 4, 10, 1));
            batch.Add("targets", Tensor.Normal(rng, 0f, 1f, 4, 10, 1));
            return batch;
        });

    public static IEnumerable<PeerCase> All => [Sorting, Gpt, NoNormalization, Continuous];

    static Tensor<int> RandomTokens(Rng rng, int rows, int positions, int vocabulary)
    {
        var tokens = new int[rows * positions];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.NextInt(vocabulary);
        return Tensor.FromArray(tokens, [rows, positions]);
    }

    static SafeTensorsFile TokenBatch(Tensor<int> tokens, Tensor<float>? mask)
    {
        var batch = new SafeTensorsFile();
        batch.Add("tokens", tokens);
        if (mask is not null) batch.Add("loss_mask", mask);
        return batch;
    }
}
