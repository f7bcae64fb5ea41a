using System.Numerics;
using Forge.Autograd;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Models.Interpretability;

/// <summary>
/// The Local Learning Coefficient λ̂ of a trained model w* by stochastic-gradient Langevin dynamics
/// (Lau et al.; devinterp's estimator): sample from p(w) ∝ exp(−nβ·L(w) − γ/2·|w − w*|²) with
/// <code>w ← w − ε/2·(nβ·∇L_batch(w) + γ·(w − w*)) + N(0, ε)</code>
/// and estimate λ̂ = nβ·(E[L_batch(w)] − L(w*)). A flat (simple) basin lets the chain wander to
/// higher loss less, giving a smaller λ̂. Works on any <see cref="IMinibatchLoss{T}"/>; losses are
/// accumulated in double precision, the loss's own precision (float or double) is used for gradients.
/// The parameters are restored to w* afterwards, also when the loss throws; their gradients are left
/// as the last step made them.
/// </summary>
public static class LocalLearningCoefficient
{
    /// <summary>
    /// λ̂ of a token transformer's masked cross-entropy, minibatches drawn from <paramref name="data"/>, each
    /// cut into <paramref name="microBatches"/> parts (the training's micro-batches; 1: whole).
    /// </summary>
    public static LlcResult Estimate<T>(Transformer<T> model, FixedTokenDataset<T> data, LlcSettings settings, double initialLoss, int microBatches = 1)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Estimate(MinibatchLosses.TokenCrossEntropy(model, data, settings.Validate().BatchSize, microBatches), settings, initialLoss);

    /// <summary>λ̂ of <paramref name="loss"/> at the current parameters w*, whose loss is <paramref name="initialLoss"/>.</summary>
    public static LlcResult Estimate<T>(IMinibatchLoss<T> loss, LlcSettings settings, double initialLoss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        settings.Validate();
        var parameters = loss.Parameters;
        foreach (var p in parameters)
            if (p.Data.Device is not CpuDevice)
                throw new InvalidOperationException($"LLC: parameter {p} lives on '{p.Data.Device.Name}'; the sampler updates parameters on the CPU (analyse a CPU copy)");
        var anchor = parameters.Select(p => p.Data.ToArray()).ToArray();   // w*

        double nBeta = settings.ResolvedNBeta;
        var traces = new double[settings.Chains][];
        var estimates = new double[settings.Chains];
        bool diverged = false;
        try
        {
            for (int chain = 0; chain < settings.Chains; chain++)
            {
                Restore(parameters, anchor);
                // The stream numbers are part of the recorded results: changing them changes every λ̂.
                var rng = Rng.ForStream(settings.Seed, 7_000 + (ulong)chain);
                traces[chain] = RunChain(loss, anchor, settings, nBeta, rng);
                double meanDrawLoss = traces[chain].Skip(settings.BurnIn).Average();
                estimates[chain] = nBeta * (meanDrawLoss - initialLoss);
                diverged |= !double.IsFinite(estimates[chain]);
            }
        }
        finally { Restore(parameters, anchor); }

        double mean = estimates.Average();
        double std = estimates.Length > 1 ? Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (estimates.Length - 1)) : 0;
        return new LlcResult(mean, std, estimates, traces, initialLoss, nBeta, diverged);
    }

    /// <summary>One chain's loss trace, burn-in included; NaN from the first non-finite loss on (the chain stops there).</summary>
    static double[] RunChain<T>(IMinibatchLoss<T> loss, T[][] anchor, LlcSettings settings, double nBeta, Rng rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = loss.Parameters;
        int steps = settings.BurnIn + settings.Draws;
        var trace = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            double value = loss.LossAndGradients(rng);
            trace[step] = value;
            if (!double.IsFinite(value))
            {
                Array.Fill(trace, double.NaN, step, steps - step);
                break;
            }
            for (int i = 0; i < parameters.Count; i++) LangevinStep(parameters[i], anchor[i], settings.Epsilon, settings.Gamma, nBeta, rng);
        }
        return trace;
    }

    /// <summary>w ← w − ε/2·(nβ·g + γ·(w − w*)) + √ε·ξ, ξ ~ N(0, 1), computed in double.</summary>
    static void LangevinStep<T>(Var<T> parameter, T[] anchor, double epsilon, double gamma, double nBeta, Rng rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = parameter.Data.AsSpan();
        var g = parameter.Grad.AsSpan();
        double noiseScale = Math.Sqrt(epsilon);
        for (int j = 0; j < w.Length; j++)
        {
            double wj = double.CreateChecked(w[j]);
            double drift = nBeta * double.CreateChecked(g[j]) + gamma * (wj - double.CreateChecked(anchor[j]));
            w[j] = T.CreateChecked(wj - 0.5 * epsilon * drift + noiseScale * rng.NextNormal());
        }
    }

    static void Restore<T>(IReadOnlyList<Var<T>> parameters, T[][] anchor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < parameters.Count; i++) anchor[i].CopyTo(parameters[i].Data.AsSpan());
    }
}
