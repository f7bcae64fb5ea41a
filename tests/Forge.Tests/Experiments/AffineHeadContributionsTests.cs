using Forge.Experiments.Affine;

namespace Forge.Tests.Experiments;

/// <summary>Direct contributions through the frozen final LayerNorm and read-out, linearised at the actual residual.</summary>
public class AffineHeadContributionsTests
{
    /// <summary>
    /// The strong known answer: the final residual is the sum of the components (embedding, positions, every
    /// head's output, every b_O, every MLP output), and with σ fixed at each token's own value the LayerNorm
    /// is linear, so the contributions plus b_ln·W_U add up to the prediction minus b_U.
    /// </summary>
    [TestCase("LN", 16)]
    [TestCase("LN", null)]
    [TestCase("none", 16)]
    public void ContributionsAddUpToThePredictionMinusTheReadOutBias(string normalization, int? dMlp)
    {
        var model = AffineTestModels.Random(AffineTestModels.Config(dMlp: dMlp, normalization: normalization));
        var test = AffineTestModels.TestSet();
        var perToken = AffineHeadContributions.PerToken(model, test);
        int expectedComponents = 2 + model.Config.NLayers * (model.Config.NHeads + 1 + (dMlp is null ? 0 : 1));
        Assert.That(perToken.Components.Count, Is.EqualTo(expectedComponents));
        Assert.That(perToken.Readout.BiasU, Is.Not.EqualTo(0), "b_U is part of the test");
        double worst = 0, largest = 0;
        for (int t = 0; t < perToken.Predictions.Length; t++)
        {
            double sum = perToken.Readout.LayerNormBiasTerm + perToken.Values.Sum(v => v[t]);
            worst = Math.Max(worst, Math.Abs(sum - (perToken.Predictions[t] - perToken.Readout.BiasU)));
            largest = Math.Max(largest, Math.Abs(perToken.Predictions[t]));
        }
        Assert.That(worst, Is.LessThan(2e-5 * Math.Max(1, largest)), "float tolerance of the model's own sums");
        for (int k = 0; k < perToken.Components.Count; k++)
            Assert.That(perToken.Values[k].Max(Math.Abs), Is.GreaterThan(1e-4), $"{perToken.Components[k].Name} contributes something: the sum test checks every term");
    }

    [Test]
    public void StatisticsOfAComponentThatIsTheInput()
    {
        // No LN, attention and MLP silent, W_E = e₀, W_U = e₀: the embedding's contribution is x_n itself.
        var model = AffineTestModels.Random(AffineTestModels.Config(dMlp: null, normalization: "none"));
        AffineTestModels.SilenceAttention(model);
        model.WE.Data.AsSpan().Clear();
        model.WE.Data[0, 0] = 1;
        model.WU.Data.AsSpan().Clear();
        model.WU.Data[0, 0] = 1;
        var test = AffineTestModels.TestSet();
        var result = AffineHeadContributions.Measure(model, test);
        var embed = result.Component("embed");
        Assert.That(embed.Kind, Is.EqualTo("embed"));
        foreach (var group in AffineTokens.SignGroups)
            Assert.That(embed[group].CorrelationCurrent, Is.EqualTo(1).Within(1e-9), group);
        var tokens = new AffineTokens(test);
        var pooled = tokens.Pooled("all");
        var included = Enumerable.Range(0, tokens.Count).Where(t => pooled[t]).ToList();
        Assert.That(embed["all"].MeanAbs, Is.EqualTo(included.Average(t => Math.Abs(tokens.Current[t]))).Within(1e-6));
        // Taking x_n out of a prediction x_n + p_n (p: positions' and b_U's part) leaves p_n.
        var predictions = AffineForward.Predict(model, test.Inputs, test.Positions);
        double expectedDelta = included.Average(t => Math.Pow(predictions[t] - tokens.Current[t] - tokens.Next[t], 2) - Math.Pow(predictions[t] - tokens.Next[t], 2));
        Assert.That(embed["all"].DirectRemovalDeltaMse, Is.EqualTo(expectedDelta).Within(1e-6));
        Assert.That(result.Heads.Select(h => h["all"].MeanAbs), Is.All.EqualTo(0), "silent heads contribute nothing");
    }
}
