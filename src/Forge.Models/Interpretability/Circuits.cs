using System.Numerics;
using Forge.Models.Transformers;

namespace Forge.Models.Interpretability;

/// <summary>
/// Weight-space views of a transformer's attention heads (row-vector convention, double precision):
/// per-head W_Q/W_K/W_V/W_O, the QK = W_Q·W_Kᵀ and OV = W_V·W_O matrices, and the full circuits
/// through the embedding and unembedding — full OV = W_E·OV·W_U (source token → output logit),
/// full QK = W_E·QK·W_Eᵀ (query token → key token), positional QK = W_pos·QK·W_Eᵀ.
/// <para>
/// LayerNorm folding (<see cref="LayerNormFolding"/>) is the TransformerLens procedure: (1) centre the
/// weights that write to the residual stream (W_E, W_pos, W_O, b_O) so every written vector has mean 0
/// — LayerNorm's mean subtraction then does nothing; (2) fold each LayerNorm's scale w and bias b into
/// the weights that read its output: W ← diag(w)·W, b ← b + b_LN·W; (3) centre W_U and b_U over the
/// vocabulary (softmax ignores a constant shift). What remains of LayerNorm is the division by each
/// token's own norm, a positive per-token scale that circuits ignore. Biases are not part of the
/// circuit matrices.
/// </para>
/// </summary>
public sealed class Circuits
{
    readonly IReadOnlyDictionary<string, double[,]> _w;

    public Circuits(IReadOnlyDictionary<string, double[,]> weights, TransformerConfig config) => (_w, Config) = (weights, config);

    /// <summary>Circuits of <paramref name="model"/>, with LayerNorm folded (when the model has it) unless asked not to.</summary>
    public static Circuits Of<T>(Transformer<T> model, bool foldLayerNorm = true) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = LayerNormFolding.Weights(model, foldLayerNorm && model.Config.HasLayerNorm);
        return new Circuits(weights, model.Config);
    }

    public TransformerConfig Config { get; }

    /// <summary>A (folded) 2-D weight by its conventions name, with per-head tensors split as <c>blocks.0.attn.W_Q.1</c> (head 1).</summary>
    public double[,] Weight(string name) => _w.TryGetValue(name, out var m) ? m : throw new KeyNotFoundException($"Circuits: no weight '{name}'");

    public double[,] WQ(int layer, int head) => Weight($"blocks.{layer}.attn.W_Q.{head}");   // [d_model, d_head]
    public double[,] WK(int layer, int head) => Weight($"blocks.{layer}.attn.W_K.{head}");
    public double[,] WV(int layer, int head) => Weight($"blocks.{layer}.attn.W_V.{head}");
    public double[,] WO(int layer, int head) => Weight($"blocks.{layer}.attn.W_O.{head}");   // [d_head, d_model]
    public double[,] WE => Weight("embed.W_E");
    public double[,] WPos => Weight("pos_embed.W_pos");
    public double[,] WU => Weight("unembed.W_U");

    /// <summary>QK = W_Q·W_Kᵀ, [d_model, d_model]: residual(query) · QK · residual(key)ᵀ = attention score·√d_head.</summary>
    public double[,] QK(int layer, int head) => Matrix.Multiply(WQ(layer, head), WK(layer, head), transposeB: true);

    /// <summary>OV = W_V·W_O, [d_model, d_model]: what a head writes for each residual vector it attends to.</summary>
    public double[,] OV(int layer, int head) => Matrix.Multiply(WV(layer, head), WO(layer, head));

    /// <summary>Full OV = W_E·W_V·W_O·W_U, [d_vocab, d_vocab_out]: attended token → direct effect on output logits.</summary>
    public double[,] FullOV(int layer, int head) => Matrix.Chain(WE, WV(layer, head), WO(layer, head), WU);

    /// <summary>Full QK = W_E·W_Q·W_Kᵀ·W_Eᵀ, [d_vocab, d_vocab]: query token (row) × key token (column).</summary>
    public double[,] FullQK(int layer, int head) => Matrix.Multiply(Matrix.Multiply(WE, QK(layer, head)), WE, transposeB: true);

    /// <summary>Positional QK = W_pos·W_Q·W_Kᵀ·W_Eᵀ, [n_ctx, d_vocab]: query position (row) × key token (column).</summary>
    public double[,] PositionalQK(int layer, int head) => Matrix.Multiply(Matrix.Multiply(WPos, QK(layer, head)), WE, transposeB: true);
}
