using System.Numerics;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Models.Interpretability;

/// <summary>The training losses of Forge's models as <see cref="IMinibatchLoss{T}"/>s, for samplers such as SGLD.</summary>
public static class MinibatchLosses
{
    /// <summary>
    /// Masked next-token cross-entropy of a token transformer (on the CPU) over <paramref name="batchSize"/>
    /// sequences of <paramref name="data"/> drawn uniformly with replacement at every step, cut into
    /// <paramref name="microBatches"/> parts run in parallel (<see cref="MicroBatches"/>; 1: whole).
    /// </summary>
    public static RecordedMinibatchLoss<T> TokenCrossEntropy<T>(Transformer<T> model, FixedTokenDataset<T> data, int batchSize, int microBatches = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var batch = new TokenBatch<T>(batchSize, data.Positions);
        return new RecordedMinibatchLoss<T>(model.Parameters.All, rng => data.FillRandom(rng, batch),
            MicroBatches.Of(model, batch, microBatches, TokenLoss.MaskedCrossEntropy));
    }
}
