using Forge.Autograd;
using Forge.Models.Interpretability;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

/// <summary>
/// Known answers of the SGLD estimator of the Local Learning Coefficient, on float64 losses built from
/// the engine's own ops. For p(w) ∝ exp(−nβ·L(w) − γ/2·|w − w*|²) and L a sum of one-coordinate terms,
/// λ = nβ·E[L] splits into one-dimensional integrals: a quadratic a·x² gives nβa/(2nβa + γ) → ½, a
/// quartic b·x⁴ gives → ¼ (for a homogeneous term of degree p, E[nβ·term] = 1/p as γ → 0). The losses
/// ignore the rng (full batch), so the injected Langevin noise is the only randomness and the answer is
/// the exact Gibbs expectation up to (1) Monte-Carlo error and (2) the Euler step's bias — for a
/// quadratic the chain's stationary variance is 1/(A·(1 − εA/4)), A = 2nβa + γ. Every test keeps
/// ε·A ≤ 0.06, so the bias is ≤ 1.5 %, and runs enough draws for a Monte-Carlo error of ~1–2 %
/// (integrated autocorrelation time ≈ 2/(εA) steps); tolerances are stated per test. w* ≠ 0, so the
/// localisation term and the restore are tested against a real anchor.
/// </summary>
public class LocalLearningCoefficientTests
{
    const double NBeta = 1000, Epsilon = 1e-5;

    /// <summary>
    /// L(w) = Σ_i quadratic_i·(w_i − w*_i)² + quartic_i·(w_i − w*_i)⁴, with w starting at w* (L(w*) = 0).
    /// The minibatch draw does nothing: a deterministic "stochastic" loss.
    /// </summary>
    static RecordedMinibatchLoss<double> Polynomial(double[] minimum, double[] quadratic, double[] quartic)
    {
        int d = minimum.Length;
        var w = Var<double>.Parameter(Tensor.FromArray((double[])minimum.Clone(), [d]), "w");
        var anchor = Var<double>.Constant(Tensor.FromArray(minimum, [d]));
        var a = Var<double>.Constant(Tensor.FromArray(quadratic, [d]));
        var b = Var<double>.Constant(Tensor.FromArray(quartic, [d]));
        return new RecordedMinibatchLoss<double>([w], _ => { }, () =>
        {
            var offset = w - anchor;
            var square = offset * offset;
            return (a * square + b * (square * square)).Sum();
        });
    }

    /// <summary>E[nβ·term(x)] under p(x) ∝ exp(−nβ·term(x) − γ/2·x²), by Simpson's rule over the whole mass.</summary>
    static double GibbsMean(Func<double, double> term, double nBeta, double gamma)
    {
        double Energy(double x) => nBeta * term(x) + 0.5 * gamma * x * x;
        double limit = 1e-6;
        while (Energy(limit) < 100 || Energy(-limit) < 100) limit *= 1.25;   // beyond: weight < e⁻¹⁰⁰
        const int intervals = 20_000;
        double step = 2 * limit / intervals, numerator = 0, denominator = 0;
        for (int k = 0; k <= intervals; k++)
        {
            double x = -limit + k * step;
            double weight = (k == 0 || k == intervals ? 1 : k % 2 == 1 ? 4 : 2) * Math.Exp(-Energy(x));
            numerator += weight * nBeta * term(x);
            denominator += weight;
        }
        return numerator / denominator;
    }

    static void AssertAtAnchor(IMinibatchLoss<double> loss, double[] minimum, string when) =>
        Assert.That(loss.Parameters[0].Data.ToArray(), Is.EqualTo(minimum), $"parameters not restored to w* exactly {when}");

    static readonly double[] Minimum6 = [0.3, -0.7, 1.1, 0, -2.5, 0.05];

    // 4 × 150 000 draws ≈ 0.7 s a test; the Monte-Carlo σ of λ̂ (measured over 100 chains) is then ≤ 0.7 %.
    static LlcSettings Sampler(double gamma, int draws = 150_000, double epsilon = Epsilon, ulong seed = 1) =>
        new(Chains: 4, Draws: draws, BurnIn: 500, Epsilon: epsilon, Gamma: gamma, NBeta: NBeta, Seed: seed);

    /// <summary>Σ_i nβ·a_i/(2nβ·a_i + γ): the exact Gibbs λ of Σ a_i·x_i² at finite γ.</summary>
    static double QuadraticLambda(double[] quadratic, double gamma) =>
        quadratic.Where(a => a > 0).Sum(a => NBeta * a / (2 * NBeta * a + gamma));

    /// <summary>The same for the Euler chain itself: its stationary variance is 1/(A·(1 − εA/4)), A = 2nβa + γ.</summary>
    static double QuadraticLambdaOfTheChain(double[] quadratic, double gamma, double epsilon = Epsilon) =>
        quadratic.Where(a => a > 0).Sum(a => NBeta * a / ((2 * NBeta * a + gamma) * (1 - epsilon * (2 * NBeta * a + gamma) / 4)));

    [Test]
    public void TheQuadratureReproducesTheClosedForms()
    {
        // The reference of the degenerate test must itself be right: Gaussian and pure-quartic cases.
        Assert.That(GibbsMean(x => 2 * x * x, NBeta, 1), Is.EqualTo(QuadraticLambda([2], 1)).Within(1e-10), "quadratic");
        Assert.That(GibbsMean(x => 1000 * Math.Pow(x, 4), NBeta, 0), Is.EqualTo(0.25).Within(1e-10), "quartic, γ = 0");
    }

    [Test]
    public void ARegularQuadraticHasHalfTheDimension()
    {
        // A = 2nβa + γ from 3001 to 5501, so εA ≤ 0.055 (bias ≤ 1.4 %, 1 % in the sum); nβh ≥ 3000 ≫ γ = 1.
        // Tolerances: 5 % of the Gibbs value and of d/2 (Monte-Carlo σ ≈ 0.5 % plus that bias), 3 % of the
        // chain's own stationary value (no bias). A wrong drift or noise scale is off by ≥ 30 %.
        double[] quadratic = [1.5, 1.75, 2, 2.25, 2.5, 2.75];
        const double gamma = 1;
        var loss = Polynomial(Minimum6, quadratic, new double[6]);

        var result = LocalLearningCoefficient.Estimate(loss, Sampler(gamma), initialLoss: 0);

        double exact = QuadraticLambda(quadratic, gamma);
        string report = $"λ̂ = {result.Mean:F4} ± {result.Std:F4} (chains {string.Join(", ", result.PerChain.Select(e => e.ToString("F3")))}), exact finite-γ {exact:F4}, d/2 = 3";
        TestContext.Out.WriteLine(report);
        Assert.That(result.Diverged, Is.False, report);
        Assert.That(result.Mean, Is.EqualTo(exact).Within(5).Percent, "λ̂ vs the exact finite-γ Gibbs value: " + report);
        Assert.That(result.Mean, Is.EqualTo(3.0).Within(5).Percent, "λ̂ vs d/2: " + report);
        Assert.That(result.Mean, Is.EqualTo(QuadraticLambdaOfTheChain(quadratic, gamma)).Within(3).Percent, "λ̂ vs the Euler chain's stationary value: " + report);
        AssertAtAnchor(loss, Minimum6, "after an estimate");
    }

    [Test]
    public void LocalisationAsStrongAsTheCurvatureLowersTheEstimateAsPredicted()
    {
        // γ = 2000 is comparable to 2nβa (1000 … 3000): each direction gives nβa/(2nβa + γ) ∈ [1/6, 3/10],
        // λ ≈ 1.46 instead of d/2 = 3 — checks the γ·(w − w*) pull on an anchor w* ≠ 0. εA ≤ 0.05;
        // Monte-Carlo σ ≈ 0.5 %; tolerance 5 % of the Gibbs value, 3 % of the chain's own stationary value.
        double[] quadratic = [0.5, 0.75, 1, 1, 1.25, 1.5];
        const double gamma = 2000;
        var loss = Polynomial(Minimum6, quadratic, new double[6]);

        var result = LocalLearningCoefficient.Estimate(loss, Sampler(gamma), initialLoss: 0);

        double exact = QuadraticLambda(quadratic, gamma);
        string report = $"λ̂ = {result.Mean:F4} ± {result.Std:F4}, exact finite-γ {exact:F4}, d/2 = 3";
        TestContext.Out.WriteLine(report);
        Assert.That(result.Mean, Is.EqualTo(exact).Within(5).Percent, report);
        Assert.That(result.Mean, Is.EqualTo(QuadraticLambdaOfTheChain(quadratic, gamma)).Within(3).Percent, "vs the Euler chain's stationary value: " + report);
    }

    [Test]
    public void QuarticDirectionsHaveALowerLearningCoefficient()
    {
        // L = 2·x₁² + 1000·(x₂⁴ + x₃⁴ + x₄⁴): λ = ½ + 3·¼ = 1.25 < d/2 = 2. The quartic scale is chosen so its
        // typical curvature 12nβb·E[x²] ≈ 4000 matches the quadratic's 2nβa = 4000 (equal mixing, εA ≈ 0.04).
        // Tolerance 5 %: Monte-Carlo σ ≈ 0.7 %, Euler bias +0.7 % (measured over 100 chains); a regular model would give 2.
        double[] quadratic = [2, 0, 0, 0], quartic = [0, 1000, 1000, 1000];
        double[] minimum = [-0.4, 0.9, 0.02, 1.7];
        const double gamma = 1;
        var loss = Polynomial(minimum, quadratic, quartic);

        var result = LocalLearningCoefficient.Estimate(loss, Sampler(gamma), initialLoss: 0);

        double exact = QuadraticLambda(quadratic, gamma) + 3 * GibbsMean(x => 1000 * Math.Pow(x, 4), NBeta, gamma);
        string report = $"λ̂ = {result.Mean:F4} ± {result.Std:F4}, exact finite-γ {exact:F4}, γ → 0: 1.25, d/2 = 2";
        TestContext.Out.WriteLine(report);
        Assert.That(exact, Is.EqualTo(1.25).Within(0.5).Percent, "γ = 1 barely moves the quartic answer: " + report);
        Assert.That(result.Mean, Is.EqualTo(exact).Within(5).Percent, report);
        Assert.That(result.Mean, Is.LessThan(0.7 * 2), "a degenerate basin must score clearly below d/2: " + report);
        AssertAtAnchor(loss, minimum, "after an estimate");
    }

    [Test]
    public void ADivergingChainIsReportedAndTheParametersRestored()
    {
        // ε·A = 0.01·4001 ≈ 40: each step multiplies w − w* by 1 − εA/2 ≈ −19, so the loss overflows within ~150 steps.
        var loss = Polynomial(Minimum6, [2, 2, 2, 2, 2, 2], new double[6]);

        var result = LocalLearningCoefficient.Estimate(loss, Sampler(gamma: 1, draws: 400, epsilon: 0.01), initialLoss: 0);

        Assert.That(result.Diverged, Is.True);
        Assert.That(result.PerChain, Has.All.NaN, "a diverged chain has no estimate");
        Assert.That(result.Mean, Is.NaN);
        foreach (var trace in result.LossTraces)
        {
            int firstNaN = Array.FindIndex(trace, double.IsNaN);
            Assert.That(firstNaN, Is.InRange(1, trace.Length - 1), "the chain starts finite at w* and blows up");
            Assert.That(trace.Take(firstNaN), Has.All.Matches<double>(double.IsFinite), "finite up to the blow-up");
            Assert.That(trace.Skip(firstNaN), Has.All.NaN, "NaN from the first non-finite loss on");
        }
        AssertAtAnchor(loss, Minimum6, "after a diverged estimate");
    }

    sealed class FailingLoss(IMinibatchLoss<double> inner, int failingCall) : IMinibatchLoss<double>
    {
        int _calls;
        public IReadOnlyList<Var<double>> Parameters => inner.Parameters;
        public double LossAndGradients(Rng rng) =>
            ++_calls == failingCall ? throw new InvalidOperationException("the loss failed") : inner.LossAndGradients(rng);
    }

    [Test]
    public void TheParametersAreRestoredWhenTheLossThrows()
    {
        var loss = new FailingLoss(Polynomial(Minimum6, [2, 2, 2, 2, 2, 2], new double[6]), failingCall: 700);   // in chain 2
        Assert.Throws<InvalidOperationException>(() => LocalLearningCoefficient.Estimate(loss, Sampler(gamma: 1, draws: 200), initialLoss: 0));
        AssertAtAnchor(loss, Minimum6, "after the loss threw mid-chain");
    }

    [Test]
    public void TheSameSeedGivesTheSameEstimateAndEachChainItsOwnStream()
    {
        var loss = Polynomial(Minimum6, [2, 2, 2, 2, 2, 2], new double[6]);
        var first = LocalLearningCoefficient.Estimate(loss, Sampler(gamma: 1, draws: 300), initialLoss: 0);
        var again = LocalLearningCoefficient.Estimate(loss, Sampler(gamma: 1, draws: 300), initialLoss: 0);
        var otherSeed = LocalLearningCoefficient.Estimate(loss, Sampler(gamma: 1, draws: 300, seed: 2), initialLoss: 0);

        Assert.That(again.LossTraces, Is.EqualTo(first.LossTraces), "bit-identical traces for the same seed");
        Assert.That(first.PerChain.Distinct().Count(), Is.EqualTo(4), "chains must not share a noise stream");
        Assert.That(otherSeed.PerChain, Is.Not.EqualTo(first.PerChain), "another seed, other draws");
    }

    [Test]
    public void TheTokenLossIsTheModelsCrossEntropyOnTheDrawnRowsWithFreshGradients()
    {
        // The replayed token loss must equal an eagerly recorded forward/backward on the rows FillRandom
        // draws from the same stream — also on the second call (gradients zeroed, not accumulated).
        var config = TransformerTests.Gpt with { NLayers = 1, NCtx = 6 };
        var model = new Transformer<double>(config, Initialization.Gpt2, new Rng(31));
        var sequences = TransformerTests.Tokens(new Rng(32), 20, 6, 11).ToArray();
        var data = new FixedTokenDataset<double>(sequences, 6, [0, 1, 1, 1, 1, 0], 8, 33);
        var loss = MinibatchLosses.TokenCrossEntropy(model, data, batchSize: 5);
        var sampler = new Rng(34);
        var reference = new Rng(34);

        for (int call = 0; call < 2; call++)
        {
            double value = loss.LossAndGradients(sampler);
            var replayedGradients = loss.Parameters.Select(p => p.Grad.ToArray()).ToArray();

            var batch = new TokenBatch<double>(5, 6);
            data.FillRandom(reference, batch);
            model.Parameters.ZeroGrad();
            var tape = new Tape<double>();
            Var<double> eager;
            using (tape.Record()) eager = model.Forward(batch.Tokens).CrossEntropy(batch.Targets, batch.Mask);
            tape.Backward(eager);   // leaves these gradients in the parameters: the next call must zero them

            Assert.That(value, Is.EqualTo(eager.Item()).Within(1e-12), $"loss, call {call}");
            for (int i = 0; i < model.Parameters.Count; i++)
                Assert.That(replayedGradients[i], Is.EqualTo(model.Parameters.All[i].Grad.ToArray()).Within(1e-12), $"{model.Parameters.All[i].Name}, call {call}");
        }
    }

    [Test]
    public void ChainsOnTheCores_GiveTheSequentialEstimateToTheLastBit()
    {
        // A token model's λ̂ with 3 chains: one after another on one thread, then on two threads at once (each on its own
        // copy of the model, its micro-batches one after another on its core); the model itself stays at w*.
        var config = TransformerTests.Gpt with { NLayers = 2, NCtx = 6 };
        var model = new Transformer<float>(config, Initialization.Gpt2, new Rng(4));
        var rng = new Rng(2);
        var sequences = new int[40 * 6];
        for (int i = 0; i < sequences.Length; i++) sequences[i] = rng.NextInt(11);
        var data = new FixedTokenDataset<float>(sequences, 6, [0f, 1f, 1f, 1f, 1f, 0f], 8, 3);
        var settings = new LlcSettings(Chains: 3, Draws: 6, BurnIn: 2, Epsilon: 1e-4, Gamma: 100, NBeta: 50, BatchSize: 8, Seed: 5);
        var before = model.Parameters.All.Select(p => p.Data.ToArray()).ToArray();
        int saved = Forge.Kernels.Threading.ForkJoin.Threads;
        LlcResult Run(int threads)
        {
            Forge.Kernels.Threading.ForkJoin.Threads = threads;
            try { return LocalLearningCoefficient.Estimate(model, data, settings, initialLoss: 2.0, microBatches: 2); }
            finally { Forge.Kernels.Threading.ForkJoin.Threads = saved; }
        }
        var sequential = Run(1);
        var onCores = Run(2);
        Assert.That(onCores.Mean, Is.EqualTo(sequential.Mean));
        Assert.That(onCores.PerChain, Is.EqualTo(sequential.PerChain).AsCollection);
        for (int chain = 0; chain < 3; chain++)
            Assert.That(onCores.LossTraces[chain], Is.EqualTo(sequential.LossTraces[chain]).AsCollection, $"chain {chain}");
        Assert.That(sequential.LossTraces[0].Distinct().Count(), Is.GreaterThan(1), "the chain moved");
        for (int i = 0; i < before.Length; i++)
            Assert.That(model.Parameters.All[i].Data.ToArray(), Is.EqualTo(before[i]).AsCollection, "w* restored / untouched");
    }
}
