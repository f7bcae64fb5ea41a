using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// One prompt's residual stream and residual Jacobians. <see cref="Stream"/>[l][t] is x^l_t, the residual
/// after l blocks (x^0 = token + position embedding; the final LayerNorm is not part of any block), and
/// <see cref="Jacobians"/>[l][p] is J^{l+1}_t = ∂f^{l+1}(X^l)_t / ∂x^l_t for the p-th chosen position t,
/// a d × d matrix with J[i, j] = ∂f_i / ∂x_j.
/// </summary>
public sealed record PromptJacobians(int[] Positions, double[][][] Stream, double[][][,] Jacobians)
{
    public int Layers => Jacobians.Length;
    public int DModel => Stream[0][0].Length;
}

/// <summary>
/// The residual Jacobians of every block along the tokens' trajectories (the coupling paper's J^l_t): block
/// l maps X^{l−1} → X^l = X^{l−1} + f^l(X^{l−1}), and J^l_t = ∂f^l(X^{l−1})_t / ∂x^{l−1}_t with every other
/// position held at its forward value — the block's Jacobian at that token minus the identity.
/// <para>
/// Built with the engine's batched vector–Jacobian products (<see cref="Autograd.Jacobians.BatchedVjp{T}"/>):
/// the block's input is replicated d times along the batch axis and copy i is seeded with e_i at position t,
/// so one forward and one backward pass give all d rows e_iᵀ·∂block(X)_t/∂X; the slice at position t is the
/// Jacobian with the other positions held fixed. Attention is causal, so positions after t cannot influence
/// f_t: the input is cut after t, which changes nothing but the cost. Everything runs in float64.
/// </para>
/// </summary>
public static class ResidualJacobians
{
    /// <summary>The stream and the Jacobians at <paramref name="positions"/> (0-based, ascending or not) of one prompt of <paramref name="tokens"/>.</summary>
    public static PromptJacobians Of(Transformer<double> model, ReadOnlySpan<int> tokens, IReadOnlyList<int> positions)
    {
        int t = tokens.Length, d = model.Config.DModel, layers = model.Config.NLayers;
        if (t == 0 || t > model.Config.NCtx) throw new ArgumentException($"coupling: a prompt of {t} tokens does not fit the model's n_ctx = {model.Config.NCtx}");
        foreach (int p in positions)
            if (p < 0 || p >= t) throw new ArgumentException($"coupling: position {p} is outside the prompt's 0…{t - 1}");
        var inputs = Residuals(model, tokens);   // inputs[l]: X^l [1, t, d]
        var stream = new double[layers + 1][][];
        for (int l = 0; l <= layers; l++)
        {
            var x = inputs[l].ToArray();
            stream[l] = Enumerable.Range(0, t).Select(i => x.AsSpan(i * d, d).ToArray()).ToArray();
        }
        var jacobians = new double[layers][][,];
        for (int l = 0; l < layers; l++)
        {
            var block = model.Blocks[l];
            jacobians[l] = positions.Select(p => BlockResidualJacobian(block, inputs[l], p)).ToArray();
        }
        return new PromptJacobians([.. positions], stream, jacobians);
    }

    /// <summary>X^0 … X^L of one prompt, each [1, t, d], from the model's own forward pass (hooks resid_pre and the last resid_post).</summary>
    static Tensor<double>[] Residuals(Transformer<double> model, ReadOnlySpan<int> tokens)
    {
        int layers = model.Config.NLayers;
        var ids = Tensor.FromArray(tokens.ToArray(), [1, tokens.Length]);
        var hooks = new HookSet<double> { Cache = new ActivationCache<double>(name => name.EndsWith(".hook_resid_pre", StringComparison.Ordinal) || name == HookNames.ResidPost(layers - 1)) };
        using (GradMode.NoGrad()) model.Forward(ids, hooks);
        return [.. Enumerable.Range(0, layers).Select(l => hooks.Cache[HookNames.ResidPre(l)].Contiguous().Clone()), hooks.Cache[HookNames.ResidPost(layers - 1)].Contiguous().Clone()];
    }

    /// <summary>J_t = ∂block(X)_t/∂x_t − I for the block's input X [1, t, d], as a d × d array.</summary>
    public static double[,] BlockResidualJacobian(TransformerBlock<double> block, Tensor<double> input, int position)
    {
        int d = input.Size(2);
        var upToT = input.Narrow(1, 0, position + 1).Contiguous().Clone();   // causal: later positions cannot reach f_t
        var seeds = new Tensor<double>([d, position + 1, d]);
        var seedSpan = seeds.AsSpan();
        for (int i = 0; i < d; i++) seedSpan[(i * (position + 1) + position) * d + i] = 1;
        var rows = Autograd.Jacobians.BatchedVjp(x => block.Forward(x, null), upToT, seeds).AsSpan();   // [d, t, d]
        var jacobian = new double[d, d];
        for (int i = 0; i < d; i++)
        {
            var row = rows.Slice((i * (position + 1) + position) * d, d);
            for (int j = 0; j < d; j++) jacobian[i, j] = row[j];
            jacobian[i, i] -= 1;   // the residual connection's identity: f = block − id
        }
        return jacobian;
    }
}
