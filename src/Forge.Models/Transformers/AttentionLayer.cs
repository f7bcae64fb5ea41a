using System.Numerics;
using Forge.Autograd;
using Forge.Models.Hooks;

namespace Forge.Models.Transformers;

/// <summary>
/// Causal multi-head self-attention with TransformerLens's parameter layout: W_Q, W_K, W_V
/// [n_heads, d_model, d_head], b_Q/K/V [n_heads, d_head], W_O [n_heads, d_head, d_model], b_O [d_model].
/// <para>
/// The fast path projects all heads with one GEMM each (W_Q viewed as [d_model, n_heads·d_head]) and
/// runs the fused attention kernel. When a hook needs to edit or differentiate the scores or the
/// pattern, the same computation runs as separate ops (q·kᵀ, causal softmax, ·v); the per-head
/// output hook_result is computed only when asked for, since the summed output needs no per-head copy.
/// </para>
/// </summary>
public sealed class AttentionLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int _layer, _heads, _dHead, _dModel;
    readonly T _scale;

    public AttentionLayer(ParameterSet<T> parameters, TransformerConfig config, int layer, Func<int[], int, Tensor<T>> weight)
    {
        (_layer, _heads, _dHead, _dModel) = (layer, config.NHeads, config.DHead, config.DModel);
        _scale = T.One / T.Sqrt(T.CreateChecked(_dHead));
        string prefix = $"blocks.{layer}.attn.";
        WQ = parameters.Add(prefix + "W_Q", weight([_heads, _dModel, _dHead], _dModel));
        WK = parameters.Add(prefix + "W_K", weight([_heads, _dModel, _dHead], _dModel));
        WV = parameters.Add(prefix + "W_V", weight([_heads, _dModel, _dHead], _dModel));
        WO = parameters.Add(prefix + "W_O", weight([_heads, _dHead, _dModel], _heads * _dHead));
        BQ = parameters.Add(prefix + "b_Q", new Tensor<T>([_heads, _dHead]));
        BK = parameters.Add(prefix + "b_K", new Tensor<T>([_heads, _dHead]));
        BV = parameters.Add(prefix + "b_V", new Tensor<T>([_heads, _dHead]));
        BO = parameters.Add(prefix + "b_O", new Tensor<T>([_dModel]));
    }

    public Var<T> WQ { get; }
    public Var<T> WK { get; }
    public Var<T> WV { get; }
    public Var<T> WO { get; }
    public Var<T> BQ { get; }
    public Var<T> BK { get; }
    public Var<T> BV { get; }
    public Var<T> BO { get; }

    /// <summary>
    /// x [batch, pos, d_model] → attention output [batch, pos, d_model]. With <paramref name="neededRows"/> ([batch, pos])
    /// only the outputs of the positions with a non-zero entry are read: their queries and output rows are all that is
    /// computed (keys and values are needed at every position).
    /// </summary>
    public Var<T> Forward(Var<T> x, HookSet<T>? hooks, Tensor<T>? neededRows = null)
    {
        int batch = x.Size(0), positions = x.Size(1);
        var q = hooks.Hook(HookNames.Q(_layer), Project(x, WQ, BQ, batch, positions, neededRows));
        var k = hooks.Hook(HookNames.K(_layer), Project(x, WK, BK, batch, positions));
        var v = hooks.Hook(HookNames.V(_layer), Project(x, WV, BV, batch, positions));
        var z = hooks.Hook(HookNames.Z(_layer), NeedsUnfused(hooks) ? Unfused(q, k, v, hooks!) : Fused(q, k, v, hooks));
        if (hooks?.Touches(HookNames.Result(_layer)) == true)
        {
            // result[b, p, h, :] = z[b, p, h, :]·W_O[h]: one batched GEMM over heads, then Σ_h.
            var perHead = z.Permute(2, 0, 1, 3).Reshape(_heads, batch * positions, _dHead).MatMul(WO);  // [h, b·p, d_model]
            var result = hooks.Hook(HookNames.Result(_layer), perHead.Reshape(_heads, batch, positions, _dModel).Permute(1, 2, 0, 3));
            return result.Sum(2) + BO;
        }
        return z.Reshape(batch, positions, _heads * _dHead).Linear(WO.Reshape(_heads * _dHead, _dModel), BO, neededRows);
    }

    /// <summary>x·W[h] + b[h] for all heads at once: [batch, pos, d_model] → [batch, pos, head, d_head].</summary>
    Var<T> Project(Var<T> x, Var<T> w, Var<T> b, int batch, int positions, Tensor<T>? neededRows = null)
    {
        var allHeads = w.Permute(1, 0, 2).Reshape(_dModel, _heads * _dHead);   // [d_model, head·d_head]
        return x.Linear(allHeads, b.Reshape(_heads * _dHead), neededRows).Reshape(batch, positions, _heads, _dHead);
    }

    bool NeedsUnfused(HookSet<T>? hooks) => hooks is not null &&
        (hooks.HasIntervention(HookNames.AttnScores(_layer)) || hooks.HasIntervention(HookNames.Pattern(_layer)) || hooks.CacheGradients);

    Var<T> Fused(Var<T> q, Var<T> k, Var<T> v, HookSet<T>? hooks)
    {
        var (z, scores, pattern) = Functional.CausalAttention(q, k, v);
        // The fused kernel keeps scores and pattern as plain tensors: recorded, but not differentiable.
        hooks.Hook(HookNames.AttnScores(_layer), Var<T>.Constant(scores));
        hooks.Hook(HookNames.Pattern(_layer), Var<T>.Constant(pattern));
        return z;
    }

    Var<T> Unfused(Var<T> q, Var<T> k, Var<T> v, HookSet<T> hooks)
    {
        var scores = q.Permute(0, 2, 1, 3).MatMul(k.Permute(0, 2, 3, 1)) * _scale;      // [batch, head, q_pos, k_pos]
        scores = hooks.Apply(HookNames.AttnScores(_layer), scores);
        var pattern = hooks.Apply(HookNames.Pattern(_layer), scores.CausalSoftmax());
        return pattern.MatMul(v.Permute(0, 2, 1, 3)).Permute(0, 2, 1, 3);               // [batch, pos, head, d_head]
    }
}
