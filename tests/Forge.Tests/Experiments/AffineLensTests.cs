using Forge.Experiments.Affine;
using Forge.Experiments.Reports;
using Forge.Models.Hooks;

namespace Forge.Tests.Experiments;

/// <summary>The lens read-out on hand-built models where its answer is known.</summary>
public class AffineLensTests
{
    /// <summary>
    /// No LayerNorm, attention-only, attention silenced (W_O = b_O = 0), W_E = e₀, W_pos = 0, W_U = e₀,
    /// b_U = 0.25: the residual stream is x_n·e₀ at every stage, so every read-out is exactly x_n + 0.25.
    /// </summary>
    [Test]
    public void WithoutLayerNormTheReadoutOfACopiedInputIsTheInputPlusTheBias()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config(dMlp: null, normalization: "none"));
        AffineTestModels.SilenceAttention(model);
        model.WE.Data.AsSpan().Clear();
        model.WE.Data[0, 0] = 1;
        model.WPos.Data.AsSpan().Clear();
        model.WU.Data.AsSpan().Clear();
        model.WU.Data[0, 0] = 1;
        model.BU.Data[0] = 0.25f;
        var test = AffineTestModels.TestSet();
        var tokens = new AffineTokens(test);

        var lens = AffineLens.Measure(model, test);
        Assert.That(lens.Stages.Select(s => s.Name), Is.EqualTo(new[] { "embed", "L0", "L1" }), "no MLP: no separate attention half");
        var pooled = tokens.Pooled("all");
        double expectedMse = Enumerable.Range(0, tokens.Count).Where(t => pooled[t]).Average(t => Math.Pow(tokens.Current[t] + 0.25 - tokens.Next[t], 2));
        var expectedOnNext = LinearFit.Of(tokens.Next, tokens.Current, pooled);
        foreach (var stage in lens.Stages)
        {
            Assert.That(stage.OnCurrent.Slope, Is.EqualTo(1).Within(1e-6), stage.Name);
            Assert.That(stage.OnCurrent.Intercept, Is.EqualTo(0.25).Within(1e-6), stage.Name);
            Assert.That(stage.OnCurrent.RSquared, Is.EqualTo(1).Within(1e-9), stage.Name);
            Assert.That(stage.OnCurrent.Count, Is.EqualTo(test.Count * (test.Positions - AffineTokens.FirstDeterminedPosition)));
            Assert.That(stage.MseToNext, Is.EqualTo(expectedMse).Within(1e-6), "the lens is copy-last shifted by b_U");
            Assert.That(stage.OnNext.RSquared, Is.EqualTo(expectedOnNext.RSquared).Within(1e-6), "R² is symmetric: that of x_n on x_{n+1}");
            Assert.That(stage.Joint.W1, Is.EqualTo(1).Within(1e-5), "the joint fit puts all weight on x_n");
            Assert.That(stage.Joint.W2, Is.EqualTo(0).Within(1e-5));
            Assert.That(stage.RSquaredOnCurrentByPosition, Is.All.EqualTo(1).Within(1e-9));
        }
        var copyLast = test.BaselineMsePerPosition(AffineTask.CopyLast);
        Assert.That(lens.CopyLastMseByPosition, Is.EqualTo(copyLast));
    }

    /// <summary>With LayerNorm and random weights but attention silenced (and no MLP), the residual stream never changes: every stage reads out exactly what the embedding does, and that is the model's prediction.</summary>
    [Test]
    public void SilentLayersLeaveTheEmbeddingsReadoutAndItIsThePrediction()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config(dMlp: null));
        AffineTestModels.SilenceAttention(model);
        var test = AffineTestModels.TestSet();
        var stages = AffineLens.Stages(model.Config);
        var readouts = AffineLens.Readouts(model, test, stages);
        for (int s = 1; s < stages.Count; s++)
            Assert.That(readouts[s], Is.EqualTo(readouts[0]), $"stage {stages[s].Name} equals the embedding's read-out exactly");
        var predictions = AffineForward.Predict(model, test.Inputs, test.Positions);
        Assert.That(readouts[^1].Select((v, t) => Math.Abs(v - predictions[t])).Max(), Is.LessThan(1e-5));
    }

    /// <summary>On a random model with every component active, the last stage's lens (computed in double) is the model's own prediction (float).</summary>
    [Test]
    public void TheLastStageIsThePredictionOfAFullModel()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config());
        var test = AffineTestModels.TestSet();
        var stages = AffineLens.Stages(model.Config);
        Assert.That(stages.Select(s => s.Hook), Is.EqualTo(new[]
        {
            HookNames.ResidPre(0), HookNames.ResidMid(0), HookNames.ResidPost(0), HookNames.ResidMid(1), HookNames.ResidPost(1),
        }));
        var readouts = AffineLens.Readouts(model, test, stages);
        var predictions = AffineForward.Predict(model, test.Inputs, test.Positions);
        double scale = predictions.Max(p => Math.Abs(p));
        Assert.That(readouts[^1].Select((v, t) => Math.Abs(v - predictions[t])).Max(), Is.LessThan(1e-5 * Math.Max(1, scale)));
        Assert.That(readouts[0].Zip(readouts[^1], (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3), "the layers do change the read-out");
    }
}
