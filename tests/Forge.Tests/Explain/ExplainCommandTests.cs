using Forge.Experiments.Cli;
using Forge.Experiments.Explain;
using Forge.Kernels;
using Forge.Tests.Experiments;

namespace Forge.Tests.Explain;

/// <summary>
/// <c>explain</c>: every printed backward step matches its finite difference (1e-8 in float64), the
/// command prints exactly the walkthrough, options change the example, bad input is one line and exit 2.
/// </summary>
public class ExplainCommandTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, new CommandRegistry().Register(new ExplainCommand()), output, error);
        return (code, output.ToString(), error.ToString());
    }

    static Walkthrough Default(string topic, bool float64 = true) => topic switch
    {
        "attention" => float64 ? AttentionWalkthrough.Run<double>(new()) : AttentionWalkthrough.Run<float>(new()),
        "layernorm" => float64 ? LayerNormWalkthrough.Run<double>(new()) : LayerNormWalkthrough.Run<float>(new()),
        "cross-entropy" => float64 ? CrossEntropyWalkthrough.Run<double>(new()) : CrossEntropyWalkthrough.Run<float>(new()),
        _ => throw new ArgumentException(topic),
    };

    static void AssertEveryStepWithin(Walkthrough walkthrough, double tolerance, params string[] expectedGradients)
    {
        Assert.That(walkthrough.Checks.Select(check => check.Name).Distinct(), Is.EquivalentTo(expectedGradients));
        foreach (var check in walkthrough.Checks)
        {
            TestContext.Out.WriteLine($"{check.Name}: max |backward − finite difference| = {check.MaxDifference:0.0e0}");
            Assert.That(check.MaxDifference, Is.LessThan(tolerance), check.Name);
            Assert.That(check.Passed, Is.True, check.Name);
        }
        Assert.That(walkthrough.Passed, Is.True);
    }

    static readonly string[] AttentionGradients = ["dz", "dW_O", "dPattern", "dv", "dScores", "dq", "dk"];
    static readonly string[] LayerNormGradients = ["dx̂", "dw", "db", "dx"];
    static readonly string[] CrossEntropyGradients = ["dLogits"];

    [Test]
    public void Attention_Default_EveryBackwardStepMatchesItsFiniteDifference_To1e8() =>
        AssertEveryStepWithin(Default("attention"), 1e-8, AttentionGradients);

    [Test]
    public void LayerNorm_Default_EveryBackwardStepMatchesItsFiniteDifference_To1e8() =>
        AssertEveryStepWithin(Default("layernorm"), 1e-8, LayerNormGradients);

    [Test]
    public void CrossEntropy_Default_EveryBackwardStepMatchesItsFiniteDifference_To1e8() =>
        AssertEveryStepWithin(Default("cross-entropy"), 1e-8, CrossEntropyGradients);

    [TestCase(1, 1, 1, 2UL)]      // one position: the softmax is constant, dq = dk = 0
    [TestCase(5, 3, 4, 7UL)]
    [TestCase(12, 12, 12, 3UL)]   // the largest the options allow
    public void Attention_OtherExamples_MatchTo1e8(int positions, int dHead, int dModel, ulong seed) =>
        AssertEveryStepWithin(AttentionWalkthrough.Run<double>(new(positions, dHead, dModel, seed)), 1e-8, AttentionGradients);

    [TestCase(1, 2, 4UL)]
    [TestCase(12, 12, 5UL)]
    public void LayerNormAndCrossEntropy_OtherExamples_MatchTo1e8(int positions, int width, ulong seed)
    {
        AssertEveryStepWithin(LayerNormWalkthrough.Run<double>(new(positions, width, seed)), 1e-8, LayerNormGradients);
        AssertEveryStepWithin(CrossEntropyWalkthrough.Run<double>(new(positions, width, seed)), 1e-8, CrossEntropyGradients);
    }

    [TestCase("attention")]
    [TestCase("layernorm")]
    [TestCase("cross-entropy")]
    public void Float32_RunsTheEngineInSinglePrecision_AndPassesItsLooserCheck(string topic)
    {
        var single = Default(topic, float64: false);
        Assert.That(single.Tolerance, Is.EqualTo(1e-5));
        Assert.That(single.Passed, Is.True);
        Assert.That(single.Sections[0], Does.Contain("float32"));
        // Really float32: somewhere the rounding shows, far above float64's differences.
        Assert.That(single.Checks.Max(check => check.MaxDifference), Is.GreaterThan(1e-9));
    }

    [Test]
    public void AttentionSteps_GiveWhatAttentionReferenceBackwardGives()
    {
        // The walkthrough calls the steps one by one; AttentionReference.Backward must be exactly those steps.
        var passes = AttentionPasses.Compute<double>(new AttentionExample());
        int t = passes.T, dHead = passes.DHead;
        double[] dq = new double[t * dHead], dk = new double[t * dHead], dv = new double[t * dHead];
        double[] dPattern = new double[t * t], dScores = new double[t * t];
        AttentionReference.Backward<double>(passes.DZ, passes.Q, passes.K, passes.V, passes.Pattern, dPattern, dScores,
            dq, dk, dv, 1, t, 1, dHead, passes.Scale);
        Assert.That(dq, Is.EqualTo(passes.DQ).AsCollection);
        Assert.That(dk, Is.EqualTo(passes.DK).AsCollection);
        Assert.That(dv, Is.EqualTo(passes.DV).AsCollection);
        Assert.That(dScores, Is.EqualTo(passes.DScores).AsCollection);
    }

    [TestCase("attention")]
    [TestCase("layernorm")]
    [TestCase("cross-entropy")]
    public void Command_PrintsExactlyTheWalkthrough_Exit0(string topic)
    {
        var result = Run("explain", topic);
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Err, Is.Empty);
        var expected = new StringWriter();
        Default(topic).WriteTo(expected);
        Assert.That(result.Out, Is.EqualTo(expected.ToString()));
        Assert.That(Default(topic).Sections, Has.All.Not.Contain("\n\n"), "sections hold no blank lines");
    }

    [Test]
    public void Options_ChangeTheExample()
    {
        var result = Run("explain", "attention", "--positions", "4", "--d-head", "3", "--d-model", "5", "--seed", "7", "--dtype", "f32");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Out, Does.Contain("4 positions, d_head 3, d_model 5, seed 7, float32"));
        Assert.That(result.Out, Does.Contain("scores [query, key]").And.Contain("✓ dq, dk"));
        Assert.That(Run("explain", "cross-entropy", "--vocab", "6").Out, Does.Contain("vocab 6"));
        Assert.That(Run("explain", "layernorm", "--d-model", "5").Out, Does.Contain("d_model 5"));
    }

    [Test]
    public void UnknownTopic_IsOneLineNamingIt_Exit2() =>
        CliTests.AssertOneLineUsageError(Run("explain", "softmax"), "'softmax'", "explain --help");

    [Test]
    public void NoTopic_ListsTheTopics_Exit2() =>
        CliTests.AssertOneLineUsageError(Run("explain"), "attention, layernorm, cross-entropy");

    [TestCase("attention", "--dtype", "f16")]
    [TestCase("attention", "--positions", "0")]
    [TestCase("attention", "--d-head", "13")]
    [TestCase("layernorm", "--d-model", "1")]
    [TestCase("cross-entropy", "--seed", "-1")]
    public void BadValue_IsOneLineNamingIt_Exit2(string topic, string option, string value) =>
        CliTests.AssertOneLineUsageError(Run("explain", topic, option, value), $"'{value}'", option);

    [Test]
    public void OptionOfAnotherTopic_IsNamed_WithWhereToAskForHelp() =>
        CliTests.AssertOneLineUsageError(Run("explain", "layernorm", "--vocab", "3"), "'--vocab'", "explain layernorm --help");

    [Test]
    public void Discover_FindsExplain() =>
        Assert.That(CommandRegistry.Discover(typeof(ExplainCommand).Assembly).Commands.Select(c => c.GetType()), Does.Contain(typeof(ExplainCommand)));
}
