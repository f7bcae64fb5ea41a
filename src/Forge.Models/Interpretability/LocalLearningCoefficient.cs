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
/// higher loss less, giving a smaller λ̂. Losses are accumulated in double precision; the model's own
/// precision (float or double) is used for gradients. The model's parameters are restored to w*.
/// </summary>
public static class LocalLearningCoefficient
{
    public static LlcResult Estimate<T>(Transformer<T> model, FixedTokenDataset<T> data, LlcSettings settings, double initialLoss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        settings.Validate();
        var parameters = model.Parameters.All;
        var anchor = parameters.Select(p => p.Data.ToArray()).ToArray();   // w*
        var batch = new TokenBatch<T>(settings.BatchSize, data.Positions);
        var tape = new Tape<T>();
        Var<T> loss;
        using (tape.Record()) loss = model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);

        double nBeta = settings.ResolvedNBeta;
        var traces = new double[settings.Chains][];
        var estimates = new double[settings.Chains];
        bool diverged = false;
        try
        {
            for (int chain = 0; chain < settings.Chains; chain++)
            {
                Restore(parameters, anchor);
                var rng = Rng.ForStream(settings.Seed, 7_000 + (ulong)chain);
                traces[chain] = RunChain(parameters, anchor, data, batch, tape, loss, settings, nBeta, rng);
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

    static double[] RunChain<T>(IReadOnlyList<Var<T>> parameters, T[][] anchor, FixedTokenDataset<T> data, TokenBatch<T> batch,
        Tape<T> tape, Var<T> loss, LlcSettings settings, double nBeta, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = settings.BurnIn + settings.Draws;
        var trace = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            data.FillRandom(rng, batch);
            tape.Replay();
            double value = double.CreateChecked(loss.Data.AsSpan()[0]);
            trace[step] = value;
            if (!double.IsFinite(value))
            {
                Array.Fill(trace, double.NaN, step, steps - step);
                break;
            }
            foreach (var p in parameters) p.ZeroGrad();
            tape.Backward(loss);
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
