using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

[IlgpuParityFixtures]
public class IlgpuCrossEntropyTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void ForwardAndBackward_MatchReference([Values(1, 7, 33)] int n, [Values(1, 7, 33)] int vocab, [Values(false, true)] bool masked)
    {
        var logits = Uniform<T>(n * vocab, seed: n * 100 + vocab, low: -4, high: 4);
        var targets = Indices(n, vocab, seed: n);
        // A masked row gets an invalid target: it must not be read.
        var mask = masked ? Enumerable.Range(0, n).Select(i => i % 3 == 1 ? T.Zero : T.CreateChecked(0.5 + i % 2)).ToArray() : [];
        if (masked && n > 1) targets[1] = -1;
        var probs = new T[n * vocab];
        var rowLoss = new T[n];
        T expectedLoss = CrossEntropyReference.Forward<T>(logits, targets, mask, probs, rowLoss, n, vocab);
        var dLogits = Uniform<T>(n * vocab, seed: 5);
        var expectedDLogits = (T[])dLogits.Clone();
        T dLoss = T.CreateChecked(1.25);
        CrossEntropyReference.Backward<T>(probs, targets, mask, dLoss, expectedDLogits, n, vocab);

        var targetsView = Upload(targets);
        var maskView = masked ? Upload(mask) : default;
        var probsView = Upload(new T[n * vocab]);
        var rowLossView = Upload(new T[n]);
        var lossView = Upload(new T[1]);
        IlgpuCrossEntropy.Forward(Backend, Upload(logits), targetsView, maskView, probsView, rowLossView, lossView, n, vocab);
        var dLogitsView = Upload(dLogits);
        IlgpuCrossEntropy.Backward(Backend, probsView, targetsView, maskView, dLoss, dLogitsView, n, vocab);

        KernelAssert.Close<T>(probs, Download(probsView), Tol, "probs");
        KernelAssert.Close<T>(rowLoss, Download(rowLossView), Tol, "rowLoss", scale: 10);
        KernelAssert.Close(expectedLoss, Download(lossView)[0], Tol, "loss", scale: 10);
        KernelAssert.Close<T>(expectedDLogits, Download(dLogitsView), Tol, "dLogits");
    }

    [Test]
    public void Forward_InPlaceOnLogits_MatchesReference()
    {
        const int n = 4, vocab = 9;
        var logits = Uniform<T>(n * vocab, seed: 1, low: -3, high: 3);
        var targets = Indices(n, vocab, seed: 2);
        var probs = new T[n * vocab];
        var rowLoss = new T[n];
        T expected = CrossEntropyReference.Forward<T>(logits, targets, [], probs, rowLoss, n, vocab);
        var logitsView = Upload(logits);
        var lossView = Upload(new T[1]);
        IlgpuCrossEntropy.Forward(Backend, logitsView, Upload(targets), default, logitsView, Upload(new T[n]), lossView, n, vocab);
        KernelAssert.Close<T>(probs, Download(logitsView), Tol, "probs");
        KernelAssert.Close(expected, Download(lossView)[0], Tol, "loss");
    }

    [Test]
    public void Forward_HugeLogitsAndAllMasked()
    {
        T big = T.CreateChecked(1000);
        var lossView = Upload(new T[1]);
        IlgpuCrossEntropy.Forward(Backend, Upload(new[] { big, -big, -big, big }), Upload(new[] { 1, 0 }), default,
            Upload(new T[4]), Upload(new T[2]), lossView, 2, 2);
        KernelAssert.Close(T.CreateChecked(2000), Download(lossView)[0], Tol, "loss of two confident mistakes");

        IlgpuCrossEntropy.Forward(Backend, Upload(new T[4]), Upload(new[] { -1, -1 }), Upload(new T[2]),
            Upload(new T[4]), Upload(new T[2]), lossView, 2, 2);
        Assert.That(Download(lossView)[0], Is.EqualTo(T.Zero), "every row masked");
    }

    [Test]
    public void Forward_InvalidCountedTarget_GivesNaN()
    {
        var lossView = Upload(new T[1]);
        IlgpuCrossEntropy.Forward(Backend, Upload(new T[4]), Upload(new[] { 0, 7 }), default,
            Upload(new T[4]), Upload(new T[2]), lossView, 2, 2);
        Assert.That(T.IsNaN(Download(lossView)[0]), "an out-of-range target must poison the loss, not read out of bounds");
    }
}
