using System.Numerics;
using Forge.Autograd;

namespace Forge.Models.Transformers;

/// <summary>LayerNorm with weight and bias [d_model] (weight 1, bias 0 at initialisation), or the identity when normalization is "none".</summary>
public sealed class LayerNormLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public LayerNormLayer(ParameterSet<T> parameters, TransformerConfig config, string prefix)
    {
        if (!config.HasLayerNorm) return;
        W = parameters.Add(prefix + ".w", Tensor.Ones<T>(config.DModel));
        B = parameters.Add(prefix + ".b", new Tensor<T>([config.DModel]));
    }

    public Var<T>? W { get; }
    public Var<T>? B { get; }

    public Var<T> Forward(Var<T> x) => W is null ? x : x.LayerNorm(W, B!);

    /// <summary>As <see cref="Forward(Var{T})"/>, computing only the rows with a non-zero entry in <paramref name="neededRows"/> ([batch, pos]; null: all).</summary>
    public Var<T> Forward(Var<T> x, Tensor<T>? neededRows) => W is null ? x : x.LayerNorm(W, B!, neededRows);
}
