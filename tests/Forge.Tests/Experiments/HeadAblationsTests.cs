using Forge.Autograd;
using Forge.Experiments.Sorting;
using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>
/// Head ablations on a 1-layer attention-only transformer whose weights are set by hand (no LayerNorm,
/// vocabulary 4, d_model 8, 2 heads of width 4, context 3), so every number follows in closed form:
/// <list type="bullet">
/// <item>the token one-hot lives in dims 0–3 and never reaches the logits (W_U reads dims 4–7 only);
/// W_Q = W_K = 0, so attention is uniform over the causal prefix;</item>
/// <item>head 0 copies the token one-hots (W_V = I on dims 0–3), so z₀ varies with the tokens, but its
/// W_O is zero: ablating it in any way changes nothing, exactly;</item>
/// <item>head 1 has W_V = 0 and b_V = e₀, so z₁ = Σ_j p_j·e₀ = e₀ at every position; W_O writes ln 6 into
/// dim 4. Clean logits are [ln 6, ln 2, 0, 0] (b_U = [0, ln 2, 0, 0]): p = [6, 2, 1, 1]/10. Mean-ablating
/// head 1 replaces e₀ by its mean, e₀; zero-ablating it leaves logits = b_U: p = [1, 2, 1, 1]/5.</item>
/// </list>
/// The validation set is [2 0 1], [3 0 0], [1 0 1], [0 0 0] with the first two predictions counted:
/// targets 0 six times and 1 twice.
/// </summary>
public class HeadAblationsTests
{
    static readonly TransformerConfig Config = new()
    {
        NLayers = 1, NHeads = 2, DModel = 8, DHead = 4, DMlp = null, NCtx = 3, DVocab = 4, DVocabOut = 4, Normalization = "none",
    };

    static Transformer<float> HandSetModel()
    {
        var model = new Transformer<float>(Config, Initialization.Gpt2, new Rng(0));
        foreach (var p in model.Parameters.All) p.Data.AsSpan().Clear();
        var attention = model.Blocks[0].Attention;
        for (int t = 0; t < 4; t++)
        {
            model.WE.Data[t, t] = 1;
            attention.WV.Data[0, t, t] = 1;          // head 0 reads the token…
            model.WU.Data[4 + t, t] = 1;
        }
        attention.BV.Data[1, 0] = 1;                 // head 1's value is e₀ whatever it attends to
        attention.WO.Data[1, 0, 4] = MathF.Log(6);   // … head 0's W_O stays zero
        model.BU.Data[1] = MathF.Log(2);
        return model;
    }

    static FixedTokenDataset<float> Validation() =>
        new([2, 0, 1, 3, 0, 0, 1, 0, 1, 0, 0, 0], positions: 3, positionMask: [1, 1, 0], batchSize: 3, seed: 0);

    /// <summary>Mean loss, accuracy, entropy and confidence of constant predictions p over 6 targets 0 and 2 targets 1.</summary>
    static (double Loss, double Accuracy, double Entropy, double Confidence) Expected(double[] p)
    {
        int predicted = Array.IndexOf(p, p.Max());
        return ((-6 * Math.Log(p[0]) - 2 * Math.Log(p[1])) / 8,
                (predicted == 0 ? 6 : predicted == 1 ? 2 : 0) / 8.0,
                -p.Sum(x => x * Math.Log(x)),
                p.Max());
    }

    [Test]
    public void AblationsMatchTheHandComputedLogits()
    {
        var model = HandSetModel();
        var (clean, ablations) = HeadAblations.Run(model, Validation(), batchSize: 3);   // a short last batch too
        AblationResult Result(int head, string kind) => ablations.Single(a => a.Head == head && a.Kind == kind);
        const double tolerance = 1e-6;   // the model runs in float (ln 6 and ln 2 are rounded to 24 bits)

        var cleanExpected = Expected([0.6, 0.2, 0.1, 0.1]);
        Assert.That(clean.Count, Is.EqualTo(8), "two counted predictions per sequence");
        Assert.That(clean.Loss, Is.EqualTo(cleanExpected.Loss).Within(tolerance), "clean loss (6·ln(10/6) + 2·ln 5)/8");
        Assert.That(clean.Accuracy, Is.EqualTo(0.75), "always predicts 0");
        Assert.That(clean.MeanEntropy, Is.EqualTo(cleanExpected.Entropy).Within(tolerance));
        Assert.That(clean.MeanConfidence, Is.EqualTo(0.6).Within(tolerance));

        foreach (var kind in new[] { "zero", "mean" })
        {
            var head0 = Result(0, kind);
            Assert.That(new[] { head0.DeltaLoss, head0.DeltaAccuracy, head0.DeltaEntropy, head0.DeltaConfidence }, Is.All.EqualTo(0),
                $"{kind}-ablating a head whose W_O is zero must change nothing, exactly");
        }

        var meanAblated = Result(1, "mean");
        Assert.That(meanAblated.DeltaLoss, Is.EqualTo(0).Within(tolerance), "head 1's output is the same everywhere: its mean is itself");
        Assert.That(meanAblated.DeltaAccuracy, Is.EqualTo(0));
        Assert.That(meanAblated.DeltaConfidence, Is.EqualTo(0).Within(tolerance));
        Assert.That(meanAblated.DeltaEntropy, Is.EqualTo(0).Within(tolerance));

        var zeroAblated = Result(1, "zero");
        var ablatedExpected = Expected([0.2, 0.4, 0.2, 0.2]);
        Assert.That(zeroAblated.Metrics.Loss, Is.EqualTo(ablatedExpected.Loss).Within(tolerance), "logits = b_U: (6·ln 5 + 2·ln 2.5)/8");
        Assert.That(zeroAblated.DeltaLoss, Is.EqualTo((6 * Math.Log(3) - 2 * Math.Log(2)) / 8).Within(tolerance));
        Assert.That(zeroAblated.DeltaAccuracy, Is.EqualTo(0.25 - 0.75), "now always predicts 1: right on 2 of 8");
        Assert.That(zeroAblated.DeltaConfidence, Is.EqualTo(0.4 - 0.6).Within(tolerance));
        Assert.That(zeroAblated.DeltaEntropy, Is.EqualTo(ablatedExpected.Entropy - cleanExpected.Entropy).Within(tolerance));
    }

    [Test]
    public void TheSilentHeadReallyAttendsToVaryingTokens()
    {
        // The exact zeros above only mean something if head 0's z differs between sequences.
        var model = HandSetModel();
        var tokens = Tensor.FromArray([2, 0, 1, 3, 0, 0], [2, 3]);
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>(name => name == HookNames.Z(0)) };
        using (GradMode.NoGrad()) model.Forward(tokens, hooks);
        var z = hooks.Cache[HookNames.Z(0)];   // [batch, pos, head, d_head]
        Assert.That(z[0, 0, 0, 2], Is.EqualTo(1f), "sequence 0 starts with token 2");
        Assert.That(z[1, 0, 0, 3], Is.EqualTo(1f), "sequence 1 starts with token 3");
        Assert.That(z[1, 1, 0, 0], Is.EqualTo(0.5f), "position 1 averages tokens 3 and 0");
    }
}
