namespace Forge.Models.Interpretability;

/// <summary>
/// Settings of the SGLD estimate of the Local Learning Coefficient. Calibrate once on a final
/// checkpoint (loss traces level off, no divergence, non-negative estimates), then keep them fixed.
/// </summary>
/// <param name="Chains">Independent SGLD chains started at w*.</param>
/// <param name="Draws">Steps per chain whose losses enter the estimate (after burn-in).</param>
/// <param name="BurnIn">Steps per chain discarded before drawing.</param>
/// <param name="Epsilon">Step size ε (the injected noise is N(0, ε)).</param>
/// <param name="Gamma">Localisation strength γ of the prior γ/2·|w − w*|².</param>
/// <param name="NBeta">Inverse temperature times sample size, nβ; null: batch/ln(batch), the common default.</param>
/// <param name="BatchSize">Minibatch size of the SGLD gradients (sequences per draw of the token loss); it also sets the default nβ.</param>
/// <param name="Seed">Seed of batches and noise (chain c uses its own stream).</param>
public sealed record LlcSettings(int Chains = 4, int Draws = 200, int BurnIn = 100, double Epsilon = 1e-4, double Gamma = 100,
    double? NBeta = null, int BatchSize = 512, ulong Seed = 0)
{
    public double ResolvedNBeta => NBeta ?? BatchSize / Math.Log(BatchSize);

    public LlcSettings Validate()
    {
        if (Chains < 1 || Draws < 1 || BurnIn < 0 || BatchSize < 2)
            throw new ArgumentException($"LLC: chains ({Chains}), draws ({Draws}) must be ≥ 1, burn-in ({BurnIn}) ≥ 0, batch ({BatchSize}) ≥ 2");
        if (!(Epsilon > 0) || !(Gamma >= 0) || NBeta is <= 0)
            throw new ArgumentException($"LLC: ε ({Epsilon}) and nβ ({NBeta}) must be positive, γ ({Gamma}) non-negative");
        return this;
    }
}

/// <summary>
/// An LLC estimate: λ̂ per chain = nβ·(mean draw loss − L(w*)), their mean and standard deviation,
/// and every chain's loss trace (burn-in included) for the calibration figure.
/// </summary>
public sealed record LlcResult(double Mean, double Std, double[] PerChain, double[][] LossTraces, double InitialLoss, double NBeta, bool Diverged);
