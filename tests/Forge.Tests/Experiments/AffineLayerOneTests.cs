using Forge.Experiments.Affine;

namespace Forge.Tests.Experiments;

/// <summary>The layer-one summary's attention numbers and the copy-head rule's thresholds.</summary>
public class AffineLayerOneTests
{
    [Test]
    public void UniformAttentionSplitsEvenlyOverThePrefix()
    {
        // W_Q = W_K = 0 and b_Q = b_K = 0: every score is 0 and query q attends 1/(q + 1) to each key.
        var model = AffineTestModels.Random(AffineTestModels.Config());
        foreach (var attention in model.Blocks.Select(b => b.Attention))
            foreach (var p in new[] { attention.WQ, attention.WK, attention.BQ, attention.BK }) p.Data.AsSpan().Clear();
        var test = AffineTestModels.TestSet();
        var recent = AffineLayerOne.AttentionToRecent(model, test, 1);
        double expected = Enumerable.Range(AffineTokens.FirstDeterminedPosition, test.Positions - AffineTokens.FirstDeterminedPosition).Average(q => 1.0 / (q + 1));
        foreach (var (current, previous) in recent)
        {
            Assert.That(current, Is.EqualTo(expected).Within(1e-6));
            Assert.That(previous, Is.EqualTo(expected).Within(1e-6));
        }
    }

    [Test]
    public void TheCopyHeadRuleNeedsBothTheCorrelationAndTheAblationEffect()
    {
        static ContributionStats Contribution(double r) => new("all", 0.1, r, 0, 0, r, 0);
        static InterventionGroup Ablation(double toward) => new("all", [], [], 0, toward);
        double r = AffineCopyHeadRule.CorrelationMin, toward = AffineCopyHeadRule.AblationTowardCopyLastMin;
        Assert.That(AffineCopyHeadRule.IsCopyHead(Contribution(r), Ablation(toward)), Is.True, "at both thresholds");
        Assert.That(AffineCopyHeadRule.IsCopyHead(Contribution(r - 0.01), Ablation(1)), Is.False, "too weakly correlated with x_n");
        Assert.That(AffineCopyHeadRule.IsCopyHead(Contribution(-0.99), Ablation(1)), Is.False, "moves the prediction away from x_n");
        Assert.That(AffineCopyHeadRule.IsCopyHead(Contribution(0.99), Ablation(toward - 0.01)), Is.False, "the model does not need it");
        Assert.That(AffineCopyHeadRule.IsCopyHead(Contribution(double.NaN), Ablation(1)), Is.False, "a silent head is no copy head");
    }
}
