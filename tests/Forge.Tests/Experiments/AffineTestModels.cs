using Forge.Experiments.Affine;
using Forge.Experiments.Framework;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>Tiny continuous-input models and test sets for the affine analysis tests.</summary>
static class AffineTestModels
{
    public const int SequenceLength = 7;   // 6 predicted positions

    public static AffineTask Task { get; } = new(new Interval(-1, 1), new Interval(-1, 1), new Interval(-1, 1), SequenceLength);

    public static AffineTestSet TestSet(int count = 64, ulong seed = 5) => new(Task, count, seed);

    public static TransformerConfig Config(int layers = 2, int heads = 2, int? dMlp = 16, string normalization = "LN") => new()
    {
        NLayers = layers, NHeads = heads, DModel = 8, DHead = 4, DMlp = dMlp, NCtx = SequenceLength - 1,
        DIn = 1, DVocab = 1, DVocabOut = 1, Normalization = normalization,
    };

    /// <summary>
    /// A model whose every parameter (LayerNorm weights and all biases included) is drawn normal(0, std),
    /// so that no term of the decomposition is trivially zero.
    /// </summary>
    public static Transformer<float> Random(TransformerConfig config, ulong seed = 3, float std = 0.5f)
    {
        var model = new Transformer<float>(config, Initialization.Gpt2, new Rng(seed));
        var rng = new Rng(seed + 1000);
        foreach (var p in model.Parameters.All)
        {
            var values = Tensor.Normal(rng, 0f, std, p.Data.Shape).ToArray();
            values.CopyTo(p.Data.AsSpan());
        }
        return model;
    }

    /// <summary>Zeroes W_O and b_O of every layer: attention writes nothing into the residual stream.</summary>
    public static void SilenceAttention(Transformer<float> model)
    {
        foreach (var block in model.Blocks)
        {
            block.Attention.WO.Data.AsSpan().Clear();
            block.Attention.BO.Data.AsSpan().Clear();
        }
    }
}
