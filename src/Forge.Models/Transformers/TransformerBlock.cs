using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;

namespace Forge.Models.Transformers;

/// <summary>
/// One pre-LN block: resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid))
/// (the MLP half is absent in attention-only models, where resid_post = resid_mid).
/// </summary>
public sealed class TransformerBlock<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _layer;

    public TransformerBlock(ParameterSet<T> parameters, TransformerConfig config, int layer, Func<int[], int, Tensor<T>> weight)
    {
        _layer = layer;
        Ln1 = new LayerNormLayer<T>(parameters, config, $"blocks.{layer}.ln1");
        Attention = new AttentionLayer<T>(parameters, config, layer, weight);
        if (config.HasMlp)
        {
            Ln2 = new LayerNormLayer<T>(parameters, config, $"blocks.{layer}.ln2");
            Mlp = new MlpLayer<T>(parameters, config, layer, weight);
        }
    }

    public LayerNormLayer<T> Ln1 { get; }
    public AttentionLayer<T> Attention { get; }
    public LayerNormLayer<T>? Ln2 { get; }
    public MlpLayer<T>? Mlp { get; }

    /// <summary>
    /// resid_pre [batch, pos, d_model] → resid_post. With <paramref name="neededRows"/> ([batch, pos]) only the positions
    /// with a non-zero entry are read from this block's output (the last block under a masked loss): the attention's
    /// queries and output and the MLP are computed for those rows only (elsewhere they are 0 on the CPU).
    /// </summary>
    public Var<T> Forward(Var<T> residual, HookSet<T>? hooks, Tensor<T>? neededRows = null)
    {
        residual = hooks.Hook(HookNames.ResidPre(_layer), residual);
        var normalized = hooks.Hook(HookNames.Ln1Normalized(_layer), Ln1.Forward(residual));
        var attnOut = hooks.Hook(HookNames.AttnOut(_layer), Attention.Forward(normalized, hooks, neededRows));
        residual = hooks.Hook(HookNames.ResidMid(_layer), residual + attnOut);
        if (Mlp is not null)
        {
            var normalized2 = hooks.Hook(HookNames.Ln2Normalized(_layer), Ln2!.Forward(residual, neededRows));
            var mlpOut = hooks.Hook(HookNames.MlpOut(_layer), Mlp.Forward(normalized2, hooks, neededRows));
            residual += mlpOut;
        }
        return hooks.Hook(HookNames.ResidPost(_layer), residual);
    }
}
