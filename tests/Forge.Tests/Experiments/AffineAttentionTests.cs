using System.Diagnostics;
using System.Text.Json.Nodes;
using Forge.Autograd;
using Forge.Experiments.Affine;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>
/// The affine attention analysis with known answers: the within (two-way fixed-effects) regression on
/// synthetic pairs with a known slope, position and row effects that must not create a slope, and the
/// coverage of its cluster-robust interval; the negative-similarity rule on synthetic scores; the
/// token–token QK scalar of a hand-built model against its own forward pass; and one smoke test of
/// the whole analysis on a tiny briefly trained model.
/// </summary>
public class AffineAttentionTests
{
    const int Positions = 8;
    static readonly int Pairs = QueryKeyPairs.Count(Positions);

    /// <summary>Fills a [sequences, pairs] array from f(sequence, query, key).</summary>
    static double[] PairArray(int sequences, int positions, Func<int, int, int, double> f)
    {
        int pairs = QueryKeyPairs.Count(positions);
        var values = new double[sequences * pairs];
        for (int s = 0; s < sequences; s++)
            for (int i = 1; i < positions; i++)
                for (int j = 0; j < i; j++) values[s * pairs + QueryKeyPairs.Index(i, j)] = f(s, i, j);
        return values;
    }

    static double[] Normals(Rng rng, int n) => Enumerable.Range(0, n).Select(_ => rng.NextNormal()).ToArray();

    /// <summary>Strong position effects: a (query, key) cell effect and a per-(sequence, query) row effect.</summary>
    static double PositionEffects(double[] rowEffect, int s, int i, int j) => 3.0 * (i - j) * (i - j) - 0.8 * j + 5.0 * i + rowEffect[s * Positions + i];

    [Test]
    public void StudentTQuantilesMatchTables()
    {
        Assert.That(StudentT.NormalQuantile(0.975), Is.EqualTo(1.959964).Within(1e-6));
        Assert.That(StudentT.NormalQuantile(0.5), Is.EqualTo(0).Within(1e-12));
        Assert.That(StudentT.NormalQuantile(0.01), Is.EqualTo(-2.326348).Within(1e-6));
        Assert.That(StudentT.NormalQuantile(0.999), Is.EqualTo(3.090232).Within(1e-6));
        Assert.That(StudentT.Quantile(0.975, 5), Is.EqualTo(2.570582).Within(1e-2));
        Assert.That(StudentT.Quantile(0.975, 10), Is.EqualTo(2.228139).Within(1e-3));
        Assert.That(StudentT.Quantile(0.975, 30), Is.EqualTo(2.042272).Within(1e-5));
        Assert.That(StudentT.Quantile(0.975, 1000), Is.EqualTo(1.962339).Within(1e-6));
        Assert.That(StudentT.Quantile(0.975, double.PositiveInfinity), Is.EqualTo(1.959964).Within(1e-6));
    }

    [Test]
    public void RegressionRecoversAKnownSlopeThroughPositionAndRowEffects()
    {
        const int sequences = 400;
        const double slope = -0.7;
        var rng = new Rng(11);
        var x = Normals(rng, sequences * Pairs);
        for (int k = 0; k < x.Length; k++) x[k] += 0.5 * (k % Pairs);   // similarity means differ by cell
        var rows = Normals(rng, sequences * Positions);
        var noise = Normals(rng, sequences * Pairs);
        var exact = PairArray(sequences, Positions, (s, i, j) => slope * x[s * Pairs + QueryKeyPairs.Index(i, j)] + PositionEffects(rows, s, i, j));

        var fit = SimilarityRegression.Fit(exact, x, sequences, Positions);
        Assert.That(fit.Slope, Is.EqualTo(slope).Within(1e-10), "no noise: the fixed effects are absorbed exactly");
        Assert.That(fit.RSquared, Is.EqualTo(1).Within(1e-10));
        Assert.That(fit.Pairs, Is.EqualTo(sequences * (Pairs - (Positions - 1))), "rows with a single key carry nothing");

        var noisy = exact.Select((y, k) => y + 0.5 * noise[k]).ToArray();
        fit = SimilarityRegression.Fit(noisy, x, sequences, Positions);
        Assert.That(fit.Slope, Is.EqualTo(slope).Within(0.02));
        Assert.That(fit.CiLow, Is.LessThan(slope));
        Assert.That(fit.CiHigh, Is.GreaterThan(slope));
        Assert.That(fit.SignificantlyNegative, Is.True);
        Assert.That(fit.RSquared, Is.EqualTo(0.49 / (0.49 + 0.25)).Within(0.03), "R² = var(βx)/(var(βx) + var(noise)) after the fixed effects");
    }

    [Test]
    public void PositionAndQueryEffectsCreateNoSlope()
    {
        const int sequences = 300;
        var rng = new Rng(12);
        // Both the similarity and the score depend strongly on the key's distance |i − j|: pooled over
        // pairs they correlate strongly, but at fixed (query, key) positions they are unrelated.
        var similarity = PairArray(sequences, Positions, (_, i, j) => -(i - j) + 0.3 * rng.NextNormal());
        var rows = Normals(rng, sequences * Positions);
        var scores = PairArray(sequences, Positions, (s, i, j) => -4.0 * (i - j) + PositionEffects(rows, s, i, j) + rng.NextNormal());
        var fit = SimilarityRegression.Fit(scores, similarity, sequences, Positions);
        Assert.That(fit.CiLow, Is.LessThan(0));
        Assert.That(fit.CiHigh, Is.GreaterThan(0));
        Assert.That(fit.RSquared, Is.LessThan(0.01));
        Assert.That(Math.Abs(PooledSlope(scores, similarity)), Is.GreaterThan(1), "without the fixed effects the positions alone make a large slope");

        // A term that depends on the query alone (x_i, its square) shifts whole rows: softmax ignores it, so must the slope.
        var x = Normals(rng, sequences * Positions);
        var product = PairArray(sequences, Positions, (s, i, j) => x[s * Positions + i] * x[s * Positions + j]);
        var queryOnly = PairArray(sequences, Positions, (s, i, j) => 3 * x[s * Positions + i] + 2 * x[s * Positions + i] * x[s * Positions + i] + 0.1 * rng.NextNormal());
        fit = SimilarityRegression.Fit(queryOnly, product, sequences, Positions);
        Assert.That(fit.CiLow, Is.LessThan(0));
        Assert.That(fit.CiHigh, Is.GreaterThan(0));
    }

    static double PooledSlope(double[] y, double[] x)
    {
        double mx = x.Average(), my = y.Average();
        return x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum() / x.Sum(a => (a - mx) * (a - mx));
    }

    [Test]
    public void ClusterRobustIntervalCoversAtTheNominalRate()
    {
        // Each sequence has its own slope (β + u_s): pairs of a sequence share u_s, so the i.i.d. error is
        // far too small while the cluster-robust one is right.
        const int replications = 600, sequences = 60, positions = 6;
        const double slope = 0.4;
        var rng = new Rng(13);
        int clusterCovered = 0, naiveCovered = 0;
        for (int r = 0; r < replications; r++)
        {
            var u = Normals(rng, sequences).Select(v => 0.5 * v).ToArray();
            var x = PairArray(sequences, positions, (_, _, _) => rng.NextNormal());
            var y = x.Select((v, k) => (slope + u[k / QueryKeyPairs.Count(positions)]) * v + 0.3 * rng.NextNormal()).ToArray();
            var fit = SimilarityRegression.Fit(y, x, sequences, positions);
            if (fit.CiLow <= slope && slope <= fit.CiHigh) clusterCovered++;
            double z = StudentT.Quantile(0.975, sequences - 1);
            if (Math.Abs(fit.Slope - slope) <= z * fit.NaiveStdError) naiveCovered++;
        }
        double coverage = (double)clusterCovered / replications, naive = (double)naiveCovered / replications;
        TestContext.Out.WriteLine($"coverage of the 95 % CI over {replications} replications: cluster-robust {coverage:F3}, i.i.d. {naive:F3}");
        Assert.That(coverage, Is.InRange(0.91, 0.985), $"cluster-robust 95 % CI coverage {coverage:F3}");
        Assert.That(naive, Is.LessThan(0.8), $"i.i.d. CI coverage {naive:F3} (should be far too low here)");
    }

    /// <summary>
    /// Three similarity measures that share a common part (so they agree in sign) plus their own parts,
    /// all larger for nearby keys; scores = c·common + position effects + noise.
    /// </summary>
    static (SlopeEstimate[] Estimates, SimilarityVerdict Verdict) JudgeSynthetic(double commonWeight, double firstOwnWeight = 0, double secondOwnWeight = 0)
    {
        const int sequences = 500;
        var rng = new Rng(14);
        var common = Normals(rng, sequences * Pairs);
        var own = Enumerable.Range(0, 3).Select(_ => Normals(rng, sequences * Pairs)).ToArray();
        var similarities = own.Select(o => PairArray(sequences, Positions, (s, i, j) =>
        {
            int k = s * Pairs + QueryKeyPairs.Index(i, j);
            return common[k] + o[k] - 0.7 * (i - j);
        })).ToArray();
        var rows = Normals(rng, sequences * Positions);
        var scores = PairArray(sequences, Positions, (s, i, j) =>
        {
            int k = s * Pairs + QueryKeyPairs.Index(i, j);
            return commonWeight * common[k] + firstOwnWeight * own[0][k] + secondOwnWeight * own[1][k] + 4.0 * (i - j) + PositionEffects(rows, s, i, j) + rng.NextNormal();
        });
        var estimates = similarities.Select(sim => SimilarityRegression.Fit(scores, sim, sequences, Positions)).ToArray();
        return (estimates, NegativeSimilarityRule.Judge(estimates));
    }

    [Test]
    public void RuleFindsNegativeSimilarity()
    {
        var (estimates, verdict) = JudgeSynthetic(-1);
        Assert.That(verdict, Is.EqualTo(SimilarityVerdict.NegativeSimilarity));
        Assert.That(estimates.All(NegativeSimilarityRule.ClearlyNegative), Is.True);
        Assert.That(NegativeSimilarityRule.IsNegativeSimilarity(estimates), Is.True);
    }

    [Test]
    public void RuleFindsPositiveSimilarity() => Assert.That(JudgeSynthetic(+1).Verdict, Is.EqualTo(SimilarityVerdict.PositiveSimilarity));

    [Test]
    public void RuleFindsNoRelationWhenOnlyPositionsMatter()
    {
        // The scores fall with |i − j| and the similarities rise as |i − j| falls: a strong pooled relation that is only position.
        var (estimates, verdict) = JudgeSynthetic(0);
        Assert.That(verdict, Is.EqualTo(SimilarityVerdict.NoClearRelation));
        Assert.That(estimates.All(e => e.RSquared < 0.01), Is.True);
    }

    [Test]
    public void RuleCallsOppositeSignsMixed() => Assert.That(JudgeSynthetic(0, firstOwnWeight: 2, secondOwnWeight: -2).Verdict, Is.EqualTo(SimilarityVerdict.Mixed));

    [Test]
    public void RuleNeedsBothInputMeasuresSignificantAndOneStrong()
    {
        // Order: x_i·x_j, −|x_i − x_j|, residual cosine.
        SlopeEstimate E(double slope, double r2) => new(slope, 0.01, 0.01, slope - 0.02, slope + 0.02, r2, 1000, 100_000);
        var clear = E(-0.5, 0.3);
        var weak = E(-0.5, NegativeSimilarityRule.MinRSquared / 2);   // significant, but explains almost nothing
        var zero = E(0, 0);
        var positive = E(0.5, 0.3);
        Assert.That(NegativeSimilarityRule.Judge([clear, clear, zero]), Is.EqualTo(SimilarityVerdict.NegativeSimilarity));
        Assert.That(NegativeSimilarityRule.Judge([weak, clear, zero]), Is.EqualTo(SimilarityVerdict.NegativeSimilarity), "one strong measure is enough when both are significant");
        Assert.That(NegativeSimilarityRule.Judge([weak, weak, clear]), Is.EqualTo(SimilarityVerdict.NoClearRelation), "significant but negligible; the cosine does not vote");
        Assert.That(NegativeSimilarityRule.Judge([clear, zero, clear]), Is.EqualTo(SimilarityVerdict.NoClearRelation), "both input-space measures must be significant");
        Assert.That(NegativeSimilarityRule.Judge([clear, clear, positive]), Is.EqualTo(SimilarityVerdict.NegativeSimilarity), "a disagreeing cosine is reported, not a veto");
        Assert.That(NegativeSimilarityRule.Judge([clear, E(0.5, 0.01), zero]), Is.EqualTo(SimilarityVerdict.Mixed));
        Assert.That(NegativeSimilarityRule.Judge([positive, weak with { Slope = 0.5, CiLow = 0.48, CiHigh = 0.52 }, zero]), Is.EqualTo(SimilarityVerdict.PositiveSimilarity));
        Assert.That(NegativeSimilarityRule.Judge([SlopeEstimate.Undefined(10, 0), clear, clear]), Is.EqualTo(SimilarityVerdict.NoClearRelation), "an undefined measure establishes nothing");
    }

    [Test]
    public void SlopeEstimateRoundTripsThroughJson()
    {
        var e = new SlopeEstimate(-0.25, 0.01, 0.004, -0.27, -0.23, 0.4, 4096, 290_000);
        var back = SlopeEstimate.FromJson(JsonNode.Parse(e.ToJson().ToJsonString())!.AsObject());
        Assert.That(back, Is.EqualTo(e));
        var undefined = SlopeEstimate.FromJson(JsonNode.Parse(SlopeEstimate.Undefined(3, 0).ToJson().ToJsonString())!.AsObject());
        Assert.That(double.IsNaN(undefined.Slope) && double.IsNaN(undefined.CiHigh), Is.True, "NaN is written as null and read back as NaN");
    }

    [Test]
    public void SimilarityMeasuresOfAHandExample()
    {
        float[] inputs = [1f, -2f, 0.5f];   // one sequence, three positions; pairs (1,0), (2,0), (2,1)
        Assert.That(QueryKeyPairs.Product(inputs, 1, 3), Is.EqualTo(new[] { -2.0, 0.5, -1.0 }));
        Assert.That(QueryKeyPairs.NegativeDistance(inputs, 1, 3), Is.EqualTo(new[] { -3.0, -0.5, -2.5 }));
        // Residuals: centring removes the shared offset 10, leaving (1, −1, 0), (−1, 1, 0), (2, 0, −2).
        float[] residual = [11, 9, 10, 9, 11, 10, 12, 10, 8];
        var cosine = new double[3];
        QueryKeyPairs.CentredCosine(residual, 1, 3, 3, cosine, 0);
        Assert.That(cosine[0], Is.EqualTo(-1).Within(1e-12));
        Assert.That(cosine[1], Is.EqualTo(0.5).Within(1e-12));    // (2)/(√2·√8)
        Assert.That(cosine[2], Is.EqualTo(-0.5).Within(1e-12));
    }

    /// <summary>
    /// One layer, LayerNorm, d_model 4, 2 heads of width 2, W_pos and every bias 0. W_E = (2, 0, 1, 1) has
    /// mean 1, centred (1, −1, 0, 0); ln1.w = (2, 1, 1, 1), so the query/key input of a token x is
    /// x·(2, −1, 0, 0)/σ(x) with σ(x) = √(x²/2 + ε). Head 0: q = (3, −1), k = (2, −2): c = 8/√2.
    /// Head 1: q = (2, 0), k = (−2, 0): c = −4/√2. Weights on dims 2–3 (where the centred token is 0)
    /// must not matter.
    /// </summary>
    [Test]
    public void TokenQkScalarOfAHandBuiltModelMatchesItsScores()
    {
        var config = new TransformerConfig { NLayers = 1, NHeads = 2, DModel = 4, DHead = 2, DMlp = null, NCtx = 3, DIn = 1, DVocab = 1, DVocabOut = 1, Normalization = "LN" };
        var model = new Transformer<float>(config, Initialization.Gpt2, new Rng(0));
        foreach (var p in model.Parameters.All) p.Data.AsSpan().Clear();
        float[] embed = [2, 0, 1, 1], lnScale = [2, 1, 1, 1];
        for (int d = 0; d < 4; d++)
        {
            model.WE.Data[0, d] = embed[d];
            model.Blocks[0].Ln1.W!.Data[d] = lnScale[d];
            model.LnFinal.W!.Data[d] = 1;
        }
        var attention = model.Blocks[0].Attention;
        attention.WQ.Data[0, 0, 0] = 1.5f; attention.WQ.Data[0, 1, 1] = 1; attention.WQ.Data[0, 2, 0] = 7;
        attention.WK.Data[0, 0, 0] = 1; attention.WK.Data[0, 1, 1] = 2; attention.WK.Data[0, 3, 1] = -5;
        attention.WQ.Data[1, 0, 0] = 1;
        attention.WK.Data[1, 0, 0] = -1;

        var scalars = AffineAttention.TokenQkScalars(model);
        double[] expected = [8 / Math.Sqrt(2), -4 / Math.Sqrt(2)];
        Assert.That(scalars[0][0], Is.EqualTo(expected[0]).Within(1e-6));
        Assert.That(scalars[0][1], Is.EqualTo(expected[1]).Within(1e-6));

        float[] x = [1f, -0.5f, 2f];
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>(n => n == HookNames.AttnScores(0)) };
        using (GradMode.NoGrad()) model.Forward(Tensor.FromArray(x, [1, 3, 1]), hooks);
        var scores = hooks.Cache[HookNames.AttnScores(0)];   // [1, head, query, key]
        double Sigma(double v) => Math.Sqrt(v * v / 2 + 1e-5);
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j <= i; j++)
                    Assert.That(scores[0, h, i, j], Is.EqualTo(expected[h] * x[i] * x[j] / (Sigma(x[i]) * Sigma(x[j]))).Within(1e-4),
                        $"head {h}, query {i}, key {j}: the score is x_i·x_j·c/(σ_i·σ_j)");
    }

    [Test]
    public void WholeAnalysisRunsOnATinyTrainedModelAndWritesItsFigures()
    {
        var stopwatch = Stopwatch.StartNew();
        var recipe = new AffineRecipe
        {
            SequenceLength = 6, Layers = 2, Heads = 2, DModel = 8, DHead = 4, DMlp = 16, BatchSize = 32, TestSize = 64, WarmupSteps = 2,
        };
        var run = new AffineRun(recipe, seed: 3, steps: 20, Forge.CpuDevice.Instance);
        for (int step = 0; step < 20; step++) run.Step(step);
        using var temp = new TempFolder();
        using var folder = RunFolder.Open("affine", temp.Combine("run"), resume: false);

        var result = AffineAttention.Measure(run, folder);
        Assert.That(result.Sequences, Is.EqualTo(64));
        Assert.That(result.Heads, Has.Count.EqualTo(4));
        foreach (var path in result.Figures.Values) Assert.That(File.Exists(path), Is.True, path);
        Assert.That(result.Figures.Keys, Is.SupersetOf(new[] { "attention_mean", "attention_sign_difference", "attention_example_a_positive", "attention_example_a_negative", "similarity", "copy" }));
        foreach (var head in result.Heads)
        {
            Assert.That(head.Similarity, Has.Count.EqualTo(3));
            Assert.That(head.Similarity.All(e => double.IsFinite(e.Slope) && e.CiLow <= e.Slope && e.Slope <= e.CiHigh), Is.True, head.Name);
            Assert.That(head.AttentionToCurrent + head.AttentionToPrevious, Is.InRange(0.0, 1.0 + 1e-9), head.Name);
            Assert.That(double.IsFinite(head.QkTokenScalar) && double.IsFinite(head.OutputCorrelationWithCurrent), Is.True, head.Name);
        }
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < 5; i++)
                    Assert.That(Enumerable.Range(0, 5).Sum(j => result.MeanPatterns[l][h][i, j]), Is.EqualTo(1).Within(1e-5), "each mean pattern row sums to 1");

        var numbers = result.AnalysisNumbers();
        Assert.That(numbers["heads"]!.AsArray(), Has.Count.EqualTo(4));
        Assert.That(numbers["heads"]![0]!["similarity"]!["negative_distance"]!["ci_low"], Is.Not.Null);
        Assert.That(numbers["rule"]!["min_r_squared"]!.GetValue<double>(), Is.EqualTo(NegativeSimilarityRule.MinRSquared));
        string markdown = AffineAttentionReport.Write(new ReportBuilder(folder.Root), result).ToString();
        Assert.That(markdown, Does.Contain("## Negative-similarity test").And.Contain("L1H1").And.Contain("figures/attention_mean.png"));
        Assert.That(stopwatch.Elapsed.TotalSeconds, Is.LessThan(10));
    }
}
