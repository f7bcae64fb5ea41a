using System.Numerics;
using Forge.Kernels.Threading;
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
    /// <para>
    /// With several chains and kernel threads (<see cref="ForkJoin.Threads"/>), chains run on the cores at once, each
    /// on its own copy of the model, whose micro-batches then run one after another on that core: the same float
    /// operations in the same order as one chain after another (kernels never depend on the thread count), so the same
    /// λ̂ to the last bit, without the fork-join of every step and with the Langevin updates overlapping. The model
    /// itself is not touched.
    /// </para>
    /// </summary>
    public static LlcResult Estimate<T>(Transformer<T> model, FixedTokenDataset<T> data, LlcSettings settings, double initialLoss, int microBatches = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batchSize = settings.Validate().BatchSize;
        int workers = Math.Min(settings.Chains, ForkJoin.Threads);
        if (workers <= 1 || model.Device is not CpuDevice)
            return Estimate(MinibatchLosses.TokenCrossEntropy(model, data, batchSize, microBatches), settings, initialLoss);
        var losses = Enumerable.Range(0, workers)
            .Select(_ => (IMinibatchLoss<T>)MinibatchLosses.TokenCrossEntropy(model.Cast<T>(), data, batchSize, microBatches)).ToArray();
        return EstimateOnCores(losses, settings, initialLoss);
    }

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

        var traces = new double[settings.Chains][];
        try
        {
            for (int chain = 0; chain < settings.Chains; chain++) traces[chain] = RunChain(loss, anchor, settings, chain);
        }
        finally { Restore(parameters, anchor); }
        return Summarize(traces, settings, initialLoss);
    }

    /// <summary>
    /// The chains of <see cref="Estimate{T}(IMinibatchLoss{T}, LlcSettings, double)"/> spread over the kernel threads, one
    /// loss per thread at a time: <paramref name="losses"/> are built on copies of one model (their parameters equal
    /// w* now), as many as chains may run at once. Each chain is exactly what it is run alone.
    /// </summary>
    static unsafe LlcResult EstimateOnCores<T>(IMinibatchLoss<T>[] losses, LlcSettings settings, double initialLoss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new ChainJob<T>(new Stack<IMinibatchLoss<T>>(losses), losses[0].Parameters.Select(p => p.Data.ToArray()).ToArray(),
            settings, new double[settings.Chains][]);
        ForkJoin.For(settings.Chains, job, &RunChains<T>);
        return Summarize(job.Traces, settings, initialLoss);
    }

    sealed record ChainJob<T>(Stack<IMinibatchLoss<T>> FreeLosses, T[][] Anchor, LlcSettings Settings, double[][] Traces)
        where T : unmanaged, IFloatingPointIeee754<T>;

    // ForkJoin body: chains [begin, end), each on a loss no other thread is using.
    static void RunChains<T>(ChainJob<T> job, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        IMinibatchLoss<T> loss;
        lock (job.FreeLosses) loss = job.FreeLosses.Pop();
        try
        {
            for (int chain = begin; chain < end; chain++) job.Traces[chain] = RunChain(loss, job.Anchor, job.Settings, chain);
        }
        finally { lock (job.FreeLosses) job.FreeLosses.Push(loss); }
    }

    /// <summary>λ̂ per chain, nβ·(mean draw loss − L(w*)), and their mean and spread.</summary>
    static LlcResult Summarize(double[][] traces, LlcSettings settings, double initialLoss)
    {
        double nBeta = settings.ResolvedNBeta;
        var estimates = traces.Select(trace => nBeta * (trace.Skip(settings.BurnIn).Average() - initialLoss)).ToArray();
        bool diverged = estimates.Any(e => !double.IsFinite(e));
        double mean = estimates.Average();
        double std = estimates.Length > 1 ? Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (estimates.Length - 1)) : 0;
        return new LlcResult(mean, std, estimates, traces, initialLoss, nBeta, diverged);
    }

    /// <summary>
    /// Chain <paramref name="chain"/>'s loss trace from w*, burn-in included; NaN from the first non-finite loss on (the
    /// chain stops there). Its random stream is a function of the seed and the chain's number alone.
    /// </summary>
    static double[] RunChain<T>(IMinibatchLoss<T> loss, T[][] anchor, LlcSettings settings, int chain)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = loss.Parameters;
        Restore(parameters, anchor);
        // The stream numbers are part of the recorded results: changing them changes every λ̂.
        var rng = Rng.ForStream(settings.Seed, 7_000 + (ulong)chain);
        double nBeta = settings.ResolvedNBeta;
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
