using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class CrossEntropyTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    /// <summary>A mask with weights in [0, 2) and every third row ignored (weight 0, target −1).</summary>
    static (int[] targets, T[] mask) Batch(int n, int vocab, bool masked)
    {
        var targets = Indices(n, vocab, seed: n + vocab);
        if (!masked) return (targets, []);
        var mask = Uniform<T>(n, seed: 7, low: 0, high: 2);
        for (int i = 0; i < n; i += 3) { mask[i] = T.Zero; targets[i] = -1; }
        return (targets, mask);
    }

    [Test]
    public void ForwardBackward_MatchReference([Values(1, 7, 33, 127)] int n, [Values(1, 7, 33, 127)] int vocab, [Values] bool masked)
    {
        var logits = Uniform<T>(n * vocab, seed: 1, low: -5, high: 5);
        var (targets, mask) = Batch(n, vocab, masked);
        var (expectedProbs, actualProbs) = (new T[n * vocab], new T[n * vocab]);
        var (expectedRowLoss, actualRowLoss) = (new T[n], new T[n]);
        T expected = CrossEntropyReference.Forward(logits, targets, mask, expectedProbs, expectedRowLoss, n, vocab);
        T actual = CrossEntropy.Forward(logits, targets, mask, actualProbs, actualRowLoss, n, vocab);
        KernelAssert.Close(expected, actual, Tol, "loss");
        KernelAssert.Close<T>(expectedProbs, actualProbs, Tol, "probs");
        KernelAssert.Close<T>(expectedRowLoss, actualRowLoss, Tol, "rowLoss");

        T dLoss = T.CreateChecked(1.5);
        var expectedGrad = Uniform<T>(n * vocab, seed: 2);
        var actualGrad = (T[])expectedGrad.Clone();
        CrossEntropyReference.Backward(actualProbs, targets, mask, dLoss, expectedGrad, n, vocab);
        CrossEntropy.Backward(actualProbs, targets, mask, dLoss, actualGrad, n, vocab);
        KernelAssert.Close<T>(expectedGrad, actualGrad, Tol, "dLogits");
    }

    [Test]
    public void Forward_Large_MatchesReference()
    {
        const int n = 64, vocab = 2051; // parallel rows
        var logits = Uniform<T>(n * vocab, seed: 3, low: -5, high: 5);
        var (targets, mask) = Batch(n, vocab, masked: true);
        var (expectedProbs, actualProbs) = (new T[n * vocab], new T[n * vocab]);
        T expected = CrossEntropyReference.Forward(logits, targets, mask, expectedProbs, new T[n], n, vocab);
        T actual = CrossEntropy.Forward(logits, targets, mask, actualProbs, new T[n], n, vocab);
        KernelAssert.Close(expected, actual, Tol, "loss");
        KernelAssert.Close<T>(expectedProbs, actualProbs, Tol, "probs");
    }

    [Test]
    public void Backward_MatchesFiniteDifference([Values] bool masked)
    {
        const int n = 7, vocab = 11;
        var logits = Uniform<double>(n * vocab, seed: 4, low: -3, high: 3);
        var targets = Indices(n, vocab, seed: 5);
        double[] mask = masked ? [0.5, 0, 1, 2, 1, 0, 0.25] : [];
        const double dLoss = 0.7;
        var numerical = FiniteDifference.Gradient(
            x => dLoss * CrossEntropy.Forward(x, targets, mask, new double[n * vocab], new double[n], n, vocab), logits);
        var probs = new double[n * vocab];
        CrossEntropy.Forward(logits, targets, mask, probs, new double[n], n, vocab);
        var dLogits = new double[n * vocab];
        CrossEntropy.Backward(probs, targets, mask, dLoss, dLogits, n, vocab);
        FiniteDifference.AssertMatches(numerical, dLogits, "dLogits");
    }

    [Test]
    public void HugeLogits_StayFinite()
    {
        const int n = 3, vocab = 4;
        T big = T.CreateChecked(1000);
        // Targets sit on −1000 entries next to +1000 ones: their probability underflows to 0.
        T[] logits = [big, -big, big, -big, -big, -big, -big, big, T.Zero, -big, big, T.Zero];
        int[] targets = [1, 0, 9 % vocab];
        var probs = new T[n * vocab];
        var rowLoss = new T[n];
        T loss = CrossEntropy.Forward(logits, targets, [], probs, rowLoss, n, vocab);
        Assert.That(T.IsFinite(loss), $"loss {loss}");
        KernelAssert.AllFinite<T>(rowLoss, "rowLoss");
        KernelAssert.Close(T.CreateChecked(2000) + T.Log(T.CreateChecked(2)), rowLoss[0], Tol, "rowLoss[0]");
        var dLogits = new T[n * vocab];
        CrossEntropy.Backward(probs, targets, [], T.One, dLogits, n, vocab);
        KernelAssert.AllFinite<T>(dLogits, "dLogits");
    }

    [Test]
    public void ProbsMayOverwriteLogits()
    {
        const int n = 7, vocab = 33;
        var logits = Uniform<T>(n * vocab, seed: 6, low: -5, high: 5);
        var targets = Indices(n, vocab, seed: 7);
        var probs = new T[n * vocab];
        var rowLoss = new T[n];
        T expected = CrossEntropy.Forward(logits, targets, [], probs, rowLoss, n, vocab);
        T actual = CrossEntropy.Forward(logits, targets, [], logits, new T[n], n, vocab);
        Assert.That(actual, Is.EqualTo(expected));
        KernelAssert.Equal<T>(probs, logits, "probs in place");
    }

    [Test]
    public void AllRowsMasked_GivesZeroLossAndNoGradient()
    {
        var mask = new T[3];
        var dLogits = new T[6];
        T loss = CrossEntropy.Forward(new T[6], [0, -1, 7], mask, new T[6], new T[3], 3, 2);
        CrossEntropy.Backward(new T[6], [0, -1, 7], mask, T.One, dLogits, 3, 2);
        Assert.That(loss, Is.EqualTo(T.Zero));
        Assert.That(dLogits, Is.All.EqualTo(T.Zero));
        Assert.That(CrossEntropy.Forward<T>([], [5, 6, 7], mask, [], new T[3], 3, vocab: 0), Is.EqualTo(T.Zero));
    }

    [Test]
    public void TargetOutOfRange_ThrowsNamingRowAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            CrossEntropy.Forward<T>(new T[12], [0, 2, 4], [], new T[12], new T[3], 3, 4));
        Assert.That(ex!.Message, Does.Contain("targets[2] = 4").And.Contain("vocab = 4"));
        ex = Assert.Throws<ArgumentException>(() =>
            CrossEntropy.Backward<T>(new T[12], [-3, 2, 1], [], T.One, new T[12], 3, 4));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy.Backward").And.Contain("targets[0] = -3"));
    }
}
