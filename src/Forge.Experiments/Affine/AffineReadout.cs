using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// A model's frozen final LayerNorm and read-out (ln_final, W_U [d_model, 1], b_U) in double precision:
/// the prediction LN(r)·W_U + b_U read from any residual vector r (the lens), and its linearisation
/// at a token's actual final residual (direct contributions).
/// <para>
/// LN(r)·W_U = ((r − mean(r))/σ(r))·(w_ln ∘ W_U) + b_ln·W_U with σ(r) = √(var(r) + ε). Centring is
/// linear, (r − mean(r))·u = r·(u − mean(u)), so with the <see cref="Direction"/> u' = w_ln∘W_U −
/// mean(w_ln∘W_U) the prediction is r·u'/σ(r) + <see cref="Offset"/>: for a fixed σ — the token's own
/// σ of its full final residual — it is linear in r, and a sum of components of r splits into a sum of
/// their contributions c·u'/σ exactly.
/// </para>
/// </summary>
public sealed class AffineReadout
{
    /// <summary>The ε of <see cref="Forge.Autograd.Var{T}.LayerNorm"/>'s default, which the model's LayerNorms use.</summary>
    public const double LayerNormEpsilon = 1e-5;

    readonly bool _normalizes;

    public AffineReadout(Transformer<float> model)
    {
        var config = model.Config;
        if (config.DVocabOut != 1) throw new ArgumentException($"AffineReadout: needs one output, the model has {config.DVocabOut}");
        DModel = config.DModel;
        _normalizes = config.HasLayerNorm;
        var readOut = model.WU.Data.ToArray().Select(v => (double)v).ToArray();          // [d_model] (W_U [d_model, 1])
        var weight = _normalizes ? model.LnFinal.W!.Data.ToArray().Select(v => (double)v).ToArray() : Enumerable.Repeat(1.0, DModel).ToArray();
        var bias = _normalizes ? model.LnFinal.B!.Data.ToArray().Select(v => (double)v).ToArray() : new double[DModel];
        Direction = readOut.Zip(weight, (u, w) => u * w).ToArray();
        if (_normalizes)
        {
            double mean = Direction.Average();
            for (int i = 0; i < DModel; i++) Direction[i] -= mean;
        }
        BiasU = model.BU.Data.First();
        LayerNormBiasTerm = bias.Zip(readOut, (b, u) => b * u).Sum();
    }

    public int DModel { get; }
    /// <summary>u' = w_ln∘W_U − mean(w_ln∘W_U) [d_model] (without LayerNorm: W_U).</summary>
    public double[] Direction { get; }
    /// <summary>b_U.</summary>
    public double BiasU { get; }
    /// <summary>b_ln·W_U: what the final LayerNorm's bias adds to every prediction.</summary>
    public double LayerNormBiasTerm { get; }
    /// <summary>b_ln·W_U + b_U: the prediction's part that no residual component moves.</summary>
    public double Offset => LayerNormBiasTerm + BiasU;

    /// <summary>σ(r) = √(var(r) + ε), the final LayerNorm's divisor for residual r [d_model] (1 without LayerNorm).</summary>
    public double Scale(ReadOnlySpan<float> residual)
    {
        if (!_normalizes) return 1;
        double mean = 0;
        foreach (float v in residual) mean += v;
        mean /= residual.Length;
        double variance = 0;
        foreach (float v in residual) variance += (v - mean) * (v - mean);
        return Math.Sqrt(variance / residual.Length + LayerNormEpsilon);
    }

    /// <summary>The lens: LN(r)·W_U + b_U, what the model would predict if r were its final residual.</summary>
    public double Lens(ReadOnlySpan<float> residual) => Contribution(residual, Scale(residual)) + Offset;

    /// <summary>The direct contribution c·u'/σ of a residual component c [d_model] at a token whose final residual has LayerNorm divisor σ.</summary>
    public double Contribution(ReadOnlySpan<float> component, double scale)
    {
        double dot = 0;
        for (int i = 0; i < component.Length; i++) dot += component[i] * Direction[i];
        return dot / scale;
    }
}
