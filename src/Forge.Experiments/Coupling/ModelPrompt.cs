using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// One input sequence of a model: token ids for token models, or real vectors [positions × d_in] (row-major) for
/// continuous-input models (the affine experiment), so the coupling measurement reads either kind.
/// </summary>
public sealed record ModelPrompt
{
    ModelPrompt(int[]? tokens, float[]? values, int positions) => (Tokens, Values, Positions) = (tokens, values, positions);

    public int[]? Tokens { get; }
    public float[]? Values { get; }
    public int Positions { get; }

    public static ModelPrompt OfTokens(int[] tokens) => new(tokens, null, tokens.Length);

    public static ModelPrompt OfValues(float[] values, int dIn)
    {
        if (dIn < 1 || values.Length % dIn != 0) throw new ArgumentException($"coupling: {values.Length} input values are not whole positions of d_in = {dIn}");
        return new(null, values, values.Length / dIn);
    }

    public static implicit operator ModelPrompt(int[] tokens) => OfTokens(tokens);

    /// <summary>The model's forward pass on this one sequence (batch 1), with <paramref name="hooks"/>; a prompt of the wrong kind is an <see cref="ArgumentException"/>.</summary>
    public Var<double> Forward(Transformer<double> model, HookSet<double> hooks)
    {
        if (Tokens is not null)
        {
            if (model.Config.IsContinuous) throw new ArgumentException("coupling: token prompts given to a model that reads continuous inputs");
            return model.Forward(Tensor.FromArray(Tokens, [1, Positions]), hooks);
        }
        if (!model.Config.IsContinuous) throw new ArgumentException("coupling: continuous inputs given to a token model");
        int dIn = model.Config.DIn!.Value;
        if (Values!.Length != Positions * dIn) throw new ArgumentException($"coupling: the prompt holds {Values.Length / Positions} values per position, the model reads d_in = {dIn}");
        return model.Forward(Tensor.FromArray(Values.Select(v => (double)v).ToArray(), [1, Positions, dIn]), hooks);
    }
}
