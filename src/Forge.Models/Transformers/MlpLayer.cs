using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;

namespace Forge.Models.Transformers;

/// <summary>The feed-forward layer: GELU(x·W_in + b_in)·W_out + b_out, W_in [d_model, d_mlp], W_out [d_mlp, d_model].</summary>
public sealed class MlpLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _layer;

    public MlpLayer(ParameterSet<T> parameters, TransformerConfig config, int layer, Func<int[], int, Tensor<T>> weight)
    {
        _layer = layer;
        int dMlp = config.DMlp!.Value;
        WIn = parameters.Add($"blocks.{layer}.mlp.W_in", weight([config.DModel, dMlp], config.DModel));
        BIn = parameters.Add($"blocks.{layer}.mlp.b_in", new Tensor<T>([dMlp]));
        WOut = parameters.Add($"blocks.{layer}.mlp.W_out", weight([dMlp, config.DModel], dMlp));
        BOut = parameters.Add($"blocks.{layer}.mlp.b_out", new Tensor<T>([config.DModel]));
    }

    public Var<T> WIn { get; }
    public Var<T> BIn { get; }
    public Var<T> WOut { get; }
    public Var<T> BOut { get; }

    /// <summary>x [batch, pos, d_model] → [batch, pos, d_model]; with <paramref name="neededRows"/> ([batch, pos]) only the rows with a non-zero entry are computed.</summary>
    public Var<T> Forward(Var<T> x, HookSet<T>? hooks, Tensor<T>? neededRows = null)
    {
        var pre = x.Linear(WIn, BIn, neededRows);
        pre = hooks.Hook(HookNames.MlpPre(_layer), pre);
        var post = pre.Gelu();
        post = hooks.Hook(HookNames.MlpPost(_layer), post);
        return post.Linear(WOut, BOut, neededRows);
    }
}
