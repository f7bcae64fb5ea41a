using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

/// <summary>
/// The backward kernels that can overwrite their input gradient instead of adding to it (the first
/// contribution in a backward pass, see Forge.Autograd's GradientState): writing into a buffer full of
/// NaN must give exactly — bit for bit — what adding into zeros gives, on awkward and parallel sizes,
/// and leave nothing of the NaN behind (masked rows, masked attention entries included).
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class OverwriteGradientTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static T[] NaNs(int n) => Enumerable.Repeat(T.NaN, n).ToArray();

    [Test]
    public void Gelu_Overwrite_EqualsAccumulateIntoZeros([Values(1, 7, 33, 127, 70_001)] int n)
    {
        var x = Uniform<T>(n, seed: n, low: -6, high: 6);
        var dy = Uniform<T>(n, seed: 1);
        var added = new T[n];
        var written = NaNs(n);
        Gelu.Backward(x, dy, added, accumulate: true);
        Gelu.Backward(x, dy, written, accumulate: false);
        KernelAssert.Equal<T>(added, written, "dx");
    }

    [TestCase(1, 1)]
    [TestCase(7, 33)]
    [TestCase(33, 127)]
    [TestCase(300, 257)]   // parallel
    public void LayerNorm_OverwriteDx_EqualsAccumulateIntoZeros_AndStillAccumulatesDwDb(int n, int d)
    {
        var x = Uniform<T>(n * d, seed: n + d, low: -2, high: 3);
        var w = Uniform<T>(d, seed: 1, low: 0.5, high: 1.5);
        var (mean, rstd) = (new T[n], new T[n]);
        LayerNorm.Forward<T>(x, w, Uniform<T>(d, seed: 2), new T[n * d], mean, rstd, n, d, T.CreateChecked(1e-5));
        var dy = Uniform<T>(n * d, seed: 3);
        var (addedDx, addedDw, addedDb) = (new T[n * d], Uniform<T>(d, seed: 5), Uniform<T>(d, seed: 6));
        var (writtenDx, writtenDw, writtenDb) = (NaNs(n * d), (T[])addedDw.Clone(), (T[])addedDb.Clone());
        LayerNorm.Backward<T>(dy, x, w, mean, rstd, addedDx, addedDw, addedDb, n, d, accumulateDx: true);
        LayerNorm.Backward<T>(dy, x, w, mean, rstd, writtenDx, writtenDw, writtenDb, n, d, accumulateDx: false);
        KernelAssert.Equal<T>(addedDx, writtenDx, "dx");
        KernelAssert.Equal<T>(addedDw, writtenDw, "dw (accumulated in both)");
        KernelAssert.Equal<T>(addedDb, writtenDb, "db (accumulated in both)");
    }

    [TestCase(1, 1, false)]
    [TestCase(7, 33, true)]
    [TestCase(127, 9, true)]
    [TestCase(300, 257, false)]   // parallel
    public void CrossEntropy_Overwrite_EqualsAccumulateIntoZeros(int n, int vocab, bool masked)
    {
        var logits = Uniform<T>(n * vocab, seed: n, low: -4, high: 4);
        var targets = Indices(n, vocab, seed: 2);
        // Every third row masked out: its gradient must come out as exact zeros, not left as NaN.
        T[] mask = masked ? Enumerable.Range(0, n).Select(i => i % 3 == 1 ? T.Zero : T.CreateChecked(1 + i % 2)).ToArray() : [];
        var probs = new T[n * vocab];
        CrossEntropy.Forward<T>(logits, targets, mask, probs, new T[n], n, vocab);
        T dLoss = T.CreateChecked(0.75);
        var added = new T[n * vocab];
        var written = NaNs(n * vocab);
        CrossEntropy.Backward<T>(probs, targets, mask, dLoss, added, n, vocab, accumulate: true);
        CrossEntropy.Backward<T>(probs, targets, mask, dLoss, written, n, vocab, accumulate: false);
        KernelAssert.Equal<T>(added, written, "dLogits");
    }

    [Test]
    public void CrossEntropy_EveryRowMasked_OverwriteWritesZeros()
    {
        const int n = 4, vocab = 5;
        var probs = Uniform<T>(n * vocab, seed: 3, low: 0, high: 1);
        var written = NaNs(n * vocab);
        CrossEntropy.Backward<T>(probs, [0, 1, 2, 3], new T[n], T.One, written, n, vocab, accumulate: false);
        KernelAssert.Equal<T>(new T[n * vocab], written, "dLogits");
    }

    [TestCase(1, 1, 1, 1)]
    [TestCase(2, 7, 3, 9)]
    [TestCase(3, 21, 2, 48)]
    [TestCase(64, 21, 2, 48)]   // 128 pairs: split over threads
    [TestCase(2, 17, 1, 13)]    // d_head not a multiple of the vector width
    public void Attention_OverwriteEachGradient_EqualsAccumulateIntoZeros(int batch, int t, int heads, int dHead)
    {
        var data = new AttentionTestData<T>(batch, t, heads, dHead, seed: 3);
        data.RunForward(fast: true);
        data.ZeroGradients();
        var added = data.Clone();
        added.RunBackward(fast: true);
        // Each subset of the three gradients overwritten, the rest accumulated onto zeros.
        for (int flags = 1; flags < 8; flags++)
        {
            bool overwriteDq = (flags & 1) != 0, overwriteDk = (flags & 2) != 0, overwriteDv = (flags & 4) != 0;
            var written = data.Clone();
            if (overwriteDq) Array.Fill(written.DQ, T.NaN);
            if (overwriteDk) Array.Fill(written.DK, T.NaN);
            if (overwriteDv) Array.Fill(written.DV, T.NaN);
            Attention.Backward<T>(written.DZ, written.Q, written.K, written.V, written.Pattern, written.DPattern, written.DScores,
                written.DQ, written.DK, written.DV, batch, t, heads, dHead, written.Scale,
                accumulateDq: !overwriteDq, accumulateDk: !overwriteDk, accumulateDv: !overwriteDv);
            KernelAssert.Equal<T>(added.DQ, written.DQ, $"dq (flags {flags})");
            KernelAssert.Equal<T>(added.DK, written.DK, $"dk (flags {flags})");
            KernelAssert.Equal<T>(added.DV, written.DV, $"dv (flags {flags})");
        }
    }
}
