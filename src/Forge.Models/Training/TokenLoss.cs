using System.Numerics;
using Forge.Autograd;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>The loss the token experiments train and sample on.</summary>
public static class TokenLoss
{
    /// <summary>
    /// Next-token cross-entropy at the batch's masked positions (each weighted by its mask entry). The mask also tells
    /// the model which positions' logits are read (<see cref="Transformer{T}.Forward(Tensor{int}, Hooks.HookSet{T}?, Tensor{T}?)"/>),
    /// so the rows the loss ignores — 11 of 21 in the sorting task — are not computed in the last block, the final
    /// LayerNorm and the unembedding; the loss and its gradient are bit for bit those of the full pass.
    /// </summary>
    public static Var<T> MaskedCrossEntropy<T>(Transformer<T> model, TokenBatch<T> batch) where T : unmanaged, IFloatingPointIeee754<T> =>
        model.Forward(batch.Tokens, outputs: batch.Mask).CrossEntropy(batch.Targets, batch.Mask);
}
