using System.Numerics;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Models.Interpretability;

/// <summary>The training losses of Forge's models as <see cref="IMinibatchLoss{T}"/>s, for samplers such as SGLD.</summary>
public static class MinibatchLosses
{
    /// <summary>
    /// Masked next-token cross-entropy of a token transformer (on the CPU) over <paramref name="batchSize"/>
    /// sequences of <paramref name="data"/> drawn uniformly with replacement at every step.
    /// </summary>
    public static RecordedMinibatchLoss<T> TokenCrossEntropy<T>(Transformer<T> model, FixedTokenDataset<T> data, int batchSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var batch = new TokenBatch<T>(batchSize, data.Positions);
        return new RecordedMinibatchLoss<T>(model.Parameters.All, rng => data.FillRandom(rng, batch),
            () => model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask));
    }
}
