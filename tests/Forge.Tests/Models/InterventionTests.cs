using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

public class InterventionTests
{
    static readonly TransformerConfig Config = TransformerTests.Gpt;

    static (Transformer<double> Model, Tensor<int> Tokens) Setup() =>
        (new Transformer<double>(Config, Initialization.Gpt2, new Rng(10)), TransformerTests.Tokens(new Rng(11), 4, 8, 11));

    static ActivationCache<double> Run(Transformer<double> model, Tensor<int> tokens, HookSet<double> hooks)
    {
        hooks.Cache = new ActivationCache<double>();
        model.Forward(tokens, hooks);
        return hooks.Cache;
    }

    [Test]
    public void ZeroAblatingOneHeadZeroesExactlyThatHeadAndChangesOnlyDownstream()
    {
        var (model, tokens) = Setup();
        var clean = Run(model, tokens, new HookSet<double>());
        var ablated = Run(model, tokens, new HookSet<double>().Add(HookNames.Z(1), Interventions.ZeroAblate<double>(HookNames.Z(1), head: 2)));

        var z = ablated[HookNames.Z(1)];
        var cleanZ = clean[HookNames.Z(1)];
        for (int b = 0; b < 4; b++)
            for (int p = 0; p < 8; p++)
                for (int h = 0; h < 3; h++)
                    for (int d = 0; d < 4; d++)
                        Assert.That(z[b, p, h, d], Is.EqualTo(h == 2 ? 0.0 : cleanZ[b, p, h, d]));
        // upstream of the hook nothing moves; downstream the output does
        Assert.That(ablated[HookNames.ResidMid(0)].ToArray(), Is.EqualTo(clean[HookNames.ResidMid(0)].ToArray()));
        Assert.That(ablated[HookNames.Pattern(1)].ToArray(), Is.EqualTo(clean[HookNames.Pattern(1)].ToArray()));
        Assert.That(ablated[HookNames.AttnOut(1)].ToArray(), Is.Not.EqualTo(clean[HookNames.AttnOut(1)].ToArray()));
    }

    [Test]
    public void MeanAblationReplacesAHeadByItsBatchMean()
    {
        var (model, tokens) = Setup();
        var clean = Run(model, tokens, new HookSet<double>());
        var reference = clean[HookNames.Result(0)];
        var ablated = Run(model, tokens, new HookSet<double>().Add(HookNames.Result(0), Interventions.MeanAblate(HookNames.Result(0), reference, head: 1)));
        var result = ablated[HookNames.Result(0)];
        for (int p = 0; p < 8; p++)
            for (int d = 0; d < 12; d++)
            {
                double mean = Enumerable.Range(0, 4).Average(b => reference[b, p, 1, d]);
                for (int b = 0; b < 4; b++)
                {
                    Assert.That(result[b, p, 1, d], Is.EqualTo(mean).Within(1e-12));
                    Assert.That(result[b, p, 0, d], Is.EqualTo(reference[b, p, 0, d]));
                }
            }
    }

    [Test]
    public void PatchingTheWholeResidualFromAnotherRunReproducesThatRun()
    {
        var (model, tokens) = Setup();
        var other = TransformerTests.Tokens(new Rng(12), 4, 8, 11);
        var otherCache = Run(model, other, new HookSet<double>());
        var otherLogits = model.Forward(other).Data.ToArray();
        // Patching resid_pre of layer 0 with the other run's makes everything downstream identical to it.
        var hooks = new HookSet<double>().Add(HookNames.ResidPre(0), Interventions.Patch(HookNames.ResidPre(0), otherCache[HookNames.ResidPre(0)]));
        var patched = model.Forward(tokens, hooks).Data.ToArray();
        Assert.That(patched, Is.EqualTo(otherLogits).Within(1e-12));
    }

    [Test]
    public void PatternInterventionsRunUnfusedAndAreDifferentiable()
    {
        var (model, tokens) = Setup();
        // Uniform causal attention in layer 0, head 0: pattern[i, j] = 1/(i+1).
        var uniform = Tensor.Zeros<double>(1, 3, 8, 8);
        for (int h = 0; h < 3; h++)
            for (int i = 0; i < 8; i++)
                for (int j = 0; j <= i; j++) uniform[0, h, i, j] = 1.0 / (i + 1);
        var hooks = new HookSet<double>().Add(HookNames.Pattern(0), Interventions.Patch(HookNames.Pattern(0), uniform, head: 0));
        hooks.Cache = new ActivationCache<double>();
        var tape = new Tape<double>();
        Var<double> loss;
        using (tape.Record()) loss = model.Forward(tokens, hooks).CrossEntropy(tokens);
        tape.Backward(loss);
        Assert.That(hooks.Cache[HookNames.Pattern(0)][2, 0, 5, 3], Is.EqualTo(1.0 / 6).Within(1e-15));
        var patternGrad = hooks.Cache.Gradient(HookNames.Pattern(0));
        Assert.That(patternGrad.ToArray().Any(g => g != 0), Is.True);
    }

    [Test]
    public void CachedActivationGradientsMatchFiniteDifferences()
    {
        // ∂loss/∂resid_mid via the cache equals the finite difference of patching resid_mid.
        var (model, tokens) = Setup();
        var hooks = new HookSet<double> { Cache = new ActivationCache<double>(name => name == HookNames.ResidMid(0)) };
        var tape = new Tape<double>();
        Var<double> loss;
        using (tape.Record()) loss = model.Forward(tokens, hooks).CrossEntropy(tokens);
        tape.Backward(loss);
        var activation = hooks.Cache[HookNames.ResidMid(0)].Clone();
        var gradient = hooks.Cache.Gradient(HookNames.ResidMid(0));
        foreach (var index in new[] { 0, 77, 300 })
        {
            double LossWith(double delta)
            {
                var patched = activation.Clone();
                patched.AsSpan()[index] += delta;
                var h = new HookSet<double>().Add(HookNames.ResidMid(0), Interventions.Patch(HookNames.ResidMid(0), patched));
                using (GradMode.NoGrad()) return model.Forward(tokens, h).CrossEntropy(tokens).Item();
            }
            double numeric = (LossWith(1e-5) - LossWith(-1e-5)) / 2e-5;
            Assert.That(gradient.AsSpan()[index], Is.EqualTo(numeric).Within(1e-8 + 1e-6 * Math.Abs(numeric)));
        }
    }

    [Test]
    public void BadInterventionsAreRefusedWithClearMessages()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new HookSet<double>().Add("blocks.0.hook_nothing", x => x))!.Message, Does.Contain("hook_nothing"));
        var (model, tokens) = Setup();
        var hooks = new HookSet<double>().Add(HookNames.ResidPost(0), Interventions.ZeroAblate<double>(HookNames.ResidPost(0), head: 0));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Forward(tokens, hooks))!.Message, Does.Contain("no head axis"));
    }
}
