using Forge.Experiments.Affine;
using Forge.Models.Hooks;

namespace Forge.Tests.Experiments;

/// <summary>Ablations and activation patching on tiny random models, with answers that must be exact.</summary>
public class AffineAblationsTests
{
    [Test]
    public void AblatingAHeadWhoseOutputWeightsAreZeroChangesNothingExactly()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config());
        model.Blocks[0].Attention.WO.Data.AsSpan().Slice(1 * 4 * 8, 4 * 8).Clear();   // W_O[head 1] of layer 0: [d_head 4, d_model 8]
        var test = AffineTestModels.TestSet();
        var result = AffineAblations.Measure(model, test);
        foreach (var kind in new[] { "zero", "mean" })
        {
            var silent = result.Effect("L0H1", kind);
            foreach (var group in silent.Groups)
            {
                Assert.That(group.DeltaMse, Is.All.EqualTo(0), $"{kind}, {group.Group}: ΔMSE per position");
                Assert.That(group.PooledDeltaMse, Is.EqualTo(0));
                Assert.That(group.TowardCopyLast, Is.EqualTo(0));
            }
            Assert.That(result.Effect("L0H0", kind)["all"].DeltaMse.Max(Math.Abs), Is.GreaterThan(1e-6), $"{kind}: the other head does matter");
        }
        Assert.That(result.Effects.Select(e => e.Target).Distinct(), Is.EquivalentTo(new[]
            { "L0H0", "L0H1", "L0 MLP", "L0 attn", "L1H0", "L1H1", "L1 MLP", "L1 attn" }));
        Assert.That(result.Clean.Select(c => c.Label), Is.EqualTo(AffineTokens.SignGroups));
        Assert.That(result.Clean[1].Sequences + result.Clean[2].Sequences, Is.EqualTo(test.Count));
    }

    [Test]
    public void PatchingAHeadWithItsOwnCleanActivationChangesNothingExactly()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config());
        var test = AffineTestModels.TestSet(count: 600);   // more than one forward batch: the slices must line up
        var clean = AffineForward.Predict(model, test.Inputs, test.Positions);
        var cleanMse = AffineAblations.CleanMse(test, clean);
        for (int layer = 0; layer < 2; layer++)
        {
            var own = AffineForward.Gather(model, test.Inputs, test.Positions, HookNames.Z(layer));
            Assert.That(own.Shape, Is.EqualTo(new[] { 600, test.Positions, 2, 4 }));
            for (int head = 0; head < 2; head++)
            {
                var patched = AffinePatching.PatchedPredictions(model, test, own, layer, head);
                Assert.That(patched, Is.EqualTo(clean), $"L{layer}H{head}: predictions unchanged bit for bit");
                var effect = AffineAblations.Effect($"L{layer}H{head}", "patch", layer, head, test, cleanMse, patched);
                Assert.That(effect.Groups.SelectMany(g => g.DeltaMse), Is.All.EqualTo(0));
            }
        }
    }

    [Test]
    public void TheCorruptedSequenceFlipsTheSignOfA()
    {
        var test = AffineTestModels.TestSet();
        var corrupted = AffinePatching.CorruptedInputs(test);
        for (int i = 0; i < test.Count; i += 13)
        {
            var terms = test.TermsOf(i);
            double a = test.A[i], b = test.B[i], x = terms[0];
            Assert.That(corrupted[i * test.Positions], Is.EqualTo((float)terms[0]), "same x_0");
            for (int n = 1; n < test.Positions; n++)
            {
                x = -a * x + b;
                Assert.That(corrupted[i * test.Positions + n], Is.EqualTo((float)x).Within(1e-6));
            }
            double clean1 = terms[1], flipped1 = corrupted[i * test.Positions + 1];
            Assert.That(clean1 + flipped1, Is.EqualTo(2 * b).Within(1e-6), "x_1 + x'_1 = 2b");
        }
    }

    [Test]
    public void PredictingTheLastTermIsExactlyCopyLastsError()
    {
        // "toward copy-last" is 1 for an intervention that turns the model into copy-last.
        var model = AffineTestModels.Random(AffineTestModels.Config());
        var test = AffineTestModels.TestSet();
        var clean = AffineAblations.CleanMse(test, AffineForward.Predict(model, test.Inputs, test.Positions));
        var copy = AffineAblations.Effect("copy", "test", 0, null, test, clean, test.Inputs);
        foreach (var group in copy.Groups)
        {
            Assert.That(group.TowardCopyLast, Is.EqualTo(1).Within(1e-6), group.Group);
            var c = clean.First(x => x.Label == group.Group);
            for (int n = 0; n < test.Positions; n++)
                Assert.That(group.Mse[n], Is.EqualTo(c.CopyLast[n]).Within(1e-6));
        }
    }

    [Test]
    public void TheMeanAblationValueIsTheMeanOverSequences()
    {
        var model = AffineTestModels.Random(AffineTestModels.Config());
        var test = AffineTestModels.TestSet(count: 40);
        var (values, shape) = AffineForward.Gather(model, test.Inputs, test.Positions, HookNames.MlpOut(0));
        var mean = AffineForward.MeanOverSequences(model, test.Inputs, test.Positions, HookNames.MlpOut(0));
        Assert.That(mean.Shape, Is.EqualTo(new[] { 1, test.Positions, 8 }));
        int perSequence = values.Length / shape[0];
        for (int j = 0; j < perSequence; j += 5)
            Assert.That(mean.AsSpan()[j], Is.EqualTo(Enumerable.Range(0, 40).Average(i => values[i * perSequence + j])).Within(1e-6));
    }
}
