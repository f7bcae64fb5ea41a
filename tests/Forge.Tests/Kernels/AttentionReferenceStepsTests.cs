using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// The chain-rule steps <see cref="AttentionReference"/> exposes for learners: the softmax backward
/// the long way (full Jacobian) against the short form every kernel uses, and the steps' own argument checks.
/// </summary>
public class AttentionReferenceStepsTests
{
    [TestCase(1, 1, 1)]     // one key: the Jacobian is [[0]]
    [TestCase(2, 7, 3)]
    [TestCase(1, 33, 2)]
    [TestCase(3, 5, 1)]
    public void SoftmaxBackward_FullJacobianAndShortForm_Agree(int batch, int t, int heads)
    {
        var data = new AttentionTestData<double>(batch, t, heads, dHead: 4, seed: 12);
        data.RunForward(fast: false);
        var dPattern = new double[data.Pattern.Length];
        AttentionReference.WeightedSumBackward<double>(data.DZ, data.Pattern, data.V, dPattern, new double[data.V.Length],
            batch, t, heads, 4);
        var shortForm = new double[dPattern.Length];
        var longWay = new double[dPattern.Length];
        AttentionReference.SoftmaxBackward<double>(data.Pattern, dPattern, shortForm, batch, t, heads);
        AttentionReference.SoftmaxBackwardFullJacobian<double>(data.Pattern, dPattern, longWay, batch, t, heads);

        AttentionTestData<double>.AssertClose(longWay, shortForm, 1e-14, "dScores, full Jacobian vs short form");
        for (int pair = 0; pair < batch * heads; pair++)
        for (int i = 0; i < t; i++)
        for (int key = i + 1; key < t; key++)
            Assert.That(longWay[(pair * t + i) * t + key], Is.Zero, "no gradient through the mask");
    }

    [Test]
    public void SoftmaxJacobian_MatchesFiniteDifferencesOfTheSoftmax()
    {
        // One unmasked row (the last query of t = 4 sees all four keys): J[j, k] = ∂pattern[j]/∂scores[k].
        const int t = 4, last = t - 1;
        var scores = new double[t * t];
        var random = new Random(13);
        for (int n = 0; n < scores.Length; n++) scores[n] = 3 * random.NextDouble() - 1.5;
        var pattern = new double[t * t];
        AttentionReference.SoftmaxForward<double>(scores, pattern, 1, t, 1);
        var jacobian = new double[t * t];
        AttentionReference.SoftmaxJacobian<double>(pattern.AsSpan(last * t, t), jacobian);

        for (int k = 0; k < t; k++)
        {
            double PatternOf(double score, int j)
            {
                var nudged = (double[])scores.Clone();
                nudged[last * t + k] = score;
                var result = new double[t * t];
                AttentionReference.SoftmaxForward<double>(nudged, result, 1, t, 1);
                return result[last * t + j];
            }
            for (int j = 0; j < t; j++)
            {
                double score = scores[last * t + k], h = 1e-5;
                double numeric = (PatternOf(score + h, j) - PatternOf(score - h, j)) / (2 * h);
                Assert.That(jacobian[j * t + k], Is.EqualTo(numeric).Within(1e-9), $"J[{j}, {k}]");
            }
        }
        for (int j = 0; j < t; j++)
            Assert.That(Enumerable.Range(0, t).Sum(k => jacobian[j * t + k]), Is.EqualTo(0).Within(1e-15), $"row {j} of J sums to 0");
    }

    [Test]
    public void Steps_CheckTheirArguments_NamingTheStep()
    {
        var ex = Assert.Throws<ArgumentException>(() => AttentionReference.ScoresForward<float>(
            new float[5], new float[6], new float[9], 1, 3, 1, 2, 1f))!;   // q needs 1·3·1·2 = 6
        Assert.That(ex.ParamName, Is.EqualTo("q"));
        Assert.That(ex.Message, Does.Contain("AttentionReference.ScoresForward").And.Contain("dHead=2"));

        ex = Assert.Throws<ArgumentException>(() => AttentionReference.SoftmaxForward<float>(new float[9], new float[8], 1, 3, 1))!;
        Assert.That(ex.ParamName, Is.EqualTo("pattern"));
        Assert.That(ex.Message, Does.Contain("AttentionReference.SoftmaxForward").And.Not.Contain("dHead"), "the softmax has no d_head");

        ex = Assert.Throws<ArgumentException>(() => AttentionReference.SoftmaxBackward<float>(new float[9], new float[9], new float[9], 1, -3, 1))!;
        Assert.That(ex.Message, Does.Contain("AttentionReference.SoftmaxBackward").And.Contain("t=-3"));

        Assert.Throws<ArgumentException>(() => AttentionReference.SoftmaxJacobian<float>(new float[3], new float[8]));
    }
}
