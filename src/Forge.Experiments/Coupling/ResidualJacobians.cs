using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// One prompt's residual stream and the residual Jacobians the coupling measurement needs. <see cref="Stream"/>[l][t]
/// is x^l_t, the residual after l blocks (x^0 = token + position embedding; the final LayerNorm is not part of any
/// block). <see cref="AtLast"/>[l] is J^{l+1} at the last chosen position — one per block, for the layer × layer
/// coupling — and <see cref="AtTokenLayer"/>[p] is the token layer's J at the p-th chosen position, for the
/// token-wise coupling. Each is d × d with J[i, j] = ∂f_i / ∂x_j.
/// </summary>
public sealed record PromptJacobians(int[] Positions, int TokenLayer, double[][][] Stream, double[][,] AtLast, double[][,] AtTokenLayer)
{
    public int Layers => AtLast.Length;
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
    /// <summary>
    /// The stream of one prompt (tokens or continuous inputs), every block's Jacobian at the last of <paramref name="positions"/>
    /// (0-based, ascending), and block <paramref name="tokenLayer"/>'s at each of them. Only these are computed: a
    /// Jacobian at position t costs a batched pass over t + 1 tokens, so all blocks × all positions would cost several
    /// times more for numbers nobody reads.
    /// </summary>
    public static PromptJacobians Of(Transformer<double> model, ModelPrompt prompt, IReadOnlyList<int> positions, int tokenLayer)
    {
        int t = prompt.Positions, d = model.Config.DModel, layers = model.Config.NLayers;
        if (t == 0 || t > model.Config.NCtx) throw new ArgumentException($"coupling: a prompt of {t} tokens does not fit the model's n_ctx = {model.Config.NCtx}");
        if (positions.Count == 0) throw new ArgumentException("coupling: no positions");
        for (int i = 0; i < positions.Count; i++)
        {
            if (positions[i] < 0 || positions[i] >= t) throw new ArgumentException($"coupling: position {positions[i]} is outside the prompt's 0…{t - 1}");
            if (i > 0 && positions[i] <= positions[i - 1]) throw new ArgumentException("coupling: positions must be ascending and distinct");
        }
        if (tokenLayer < 0 || tokenLayer >= layers) throw new ArgumentException($"coupling: layer {tokenLayer} is not one of the model's 0…{layers - 1}");
        var inputs = Residuals(model, prompt);   // inputs[l]: X^l [1, t, d]
        var stream = new double[layers + 1][][];
        for (int l = 0; l <= layers; l++)
        {
            var x = inputs[l].ToArray();
            stream[l] = Enumerable.Range(0, t).Select(i => x.AsSpan(i * d, d).ToArray()).ToArray();
        }
        int last = positions[^1];
        var atLast = Enumerable.Range(0, layers).Select(l => BlockResidualJacobian(model.Blocks[l], inputs[l], last)).ToArray();
        var atTokenLayer = positions.Select(p => p == last ? atLast[tokenLayer] : BlockResidualJacobian(model.Blocks[tokenLayer], inputs[tokenLayer], p)).ToArray();
        return new PromptJacobians([.. positions], tokenLayer, stream, atLast, atTokenLayer);
    }

    /// <summary>X^0 … X^L of one prompt, each [1, t, d], from the model's own forward pass (hooks resid_pre and the last resid_post).</summary>
    static Tensor<double>[] Residuals(Transformer<double> model, ModelPrompt prompt)
    {
        int layers = model.Config.NLayers;
        var hooks = new HookSet<double> { Cache = new ActivationCache<double>(name => name.EndsWith(".hook_resid_pre", StringComparison.Ordinal) || name == HookNames.ResidPost(layers - 1)) };
        using (GradMode.NoGrad()) prompt.Forward(model, hooks);
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
