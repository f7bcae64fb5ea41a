using Forge.Kernels;
using Forge.Kernels.Devices;
using Forge.Kernels.Ilgpu;

namespace Forge.Tests.Ilgpu;

/// <summary>
/// The ILGPU backward kernels that overwrite their input gradient when asked (instead of a zero-fill launch
/// and then adding): on the CPU emulator, writing into a NaN-filled gradient gives exactly what adding into
/// zeros gives, with no NaN left (masked cross-entropy rows, every row masked), one launch fewer per
/// overwritten gradient, and attention with two gradients in one buffer still right.
/// </summary>
public class IlgpuOverwriteGradientTests
{
    static IlgpuDevice Device => IlgpuDevice.Get(IlgpuDeviceKind.CpuEmulation);
    static Backend<float> Backend => Backends.For<float>(Device);

    static Tensor<float> Random(int[] shape, int seed, float low = -1, float high = 1) =>
        Tensor.Uniform(new Rng((ulong)seed), low, high, shape).ToDevice(Device);

    static Tensor<float> Filled(int[] shape, float value)
    {
        var t = new Tensor<float>(shape, Device);
        Backend.Fill(t, value);
        return t;
    }

    [TestCase(1)]
    [TestCase(37)]
    [TestCase(1000)]
    public void Gelu(int n)
    {
        var x = Random([n], 1, -5, 5);
        var dy = Random([n], 2);
        var (added, written) = (Filled([n], 0), Filled([n], float.NaN));
        Backend.GeluBackward(x, dy, added, accumulate: true);
        long launches = Device.Accelerator.Launches;
        Backend.GeluBackward(x, dy, written, accumulate: false);
        Assert.That(Device.Accelerator.Launches - launches, Is.EqualTo(1), "one launch, no fill");
        Assert.That(written.ToArray(), Is.EqualTo(added.ToArray()).AsCollection);
    }

    [TestCase(1, 1)]
    [TestCase(7, 33)]
    public void LayerNorm(int n, int d)
    {
        var x = Random([n, d], 3, -2, 3);
        var w = Random([d], 4, 0.5f, 1.5f);
        var (y, mean, rstd) = (new Tensor<float>([n, d], Device), new Tensor<float>([n], Device), new Tensor<float>([n], Device));
        Backend.LayerNormForward(x, w, Random([d], 5), y, mean, rstd, n, d, 1e-5f);
        var dy = Random([n, d], 6);
        var (addedDx, addedDw, addedDb) = (Filled([n, d], 0), Random([d], 7), Random([d], 8));
        var (writtenDx, writtenDw, writtenDb) = (Filled([n, d], float.NaN), addedDw.Clone(), addedDb.Clone());
        Backend.LayerNormBackward(dy, x, w, mean, rstd, addedDx, addedDw, addedDb, n, d, accumulateDx: true);
        Backend.LayerNormBackward(dy, x, w, mean, rstd, writtenDx, writtenDw, writtenDb, n, d, accumulateDx: false);
        Assert.That(writtenDx.ToArray(), Is.EqualTo(addedDx.ToArray()).AsCollection, "dx");
        Assert.That(writtenDw.ToArray(), Is.EqualTo(addedDw.ToArray()).AsCollection, "dw (accumulated in both)");
        Assert.That(writtenDb.ToArray(), Is.EqualTo(addedDb.ToArray()).AsCollection, "db (accumulated in both)");
    }

    [TestCase(7, 33, false)]
    [TestCase(9, 5, true)]
    public void CrossEntropy(int n, int vocab, bool everyRowMasked)
    {
        var logits = Random([n, vocab], 9, -4, 4);
        var targets = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (i * 7) % vocab).ToArray(), [n]).ToDevice(Device);
        // Every third row masked out (or all of them): those rows must come out as zeros, not NaN.
        var mask = Tensor.FromArray(Enumerable.Range(0, n).Select(i => everyRowMasked || i % 3 == 1 ? 0f : 1f + i % 2).ToArray(), [n]).ToDevice(Device);
        var (probs, rowLoss, loss) = (new Tensor<float>([n, vocab], Device), new Tensor<float>([n], Device), new Tensor<float>([1], Device));
        Backend.CrossEntropyForward(logits, targets, mask, probs, rowLoss, loss, n, vocab);
        var dLoss = Filled([1], 1.5f);
        var (added, written) = (Filled([n, vocab], 0), Filled([n, vocab], float.NaN));
        Backend.CrossEntropyBackward(probs, targets, mask, dLoss, added, n, vocab, accumulate: true);
        Backend.CrossEntropyBackward(probs, targets, mask, dLoss, written, n, vocab, accumulate: false);
        var result = written.ToArray();
        Assert.That(result, Is.EqualTo(added.ToArray()).AsCollection);
        Assert.That(result.Any(float.IsNaN), Is.False);
    }

    [TestCase(false, false, false)]
    [TestCase(true, false, false)]
    [TestCase(false, true, true)]
    public void Attention(bool accumulateDq, bool accumulateDk, bool accumulateDv)
    {
        const int batch = 2, t = 5, heads = 2, dHead = 3;
        int[] rows = [batch, t, heads, dHead], squares = [batch, heads, t, t];
        var (q, k, v, dz) = (Random(rows, 10), Random(rows, 11), Random(rows, 12), Random(rows, 13));
        var (scores, pattern, z) = (new Tensor<float>(squares, Device), new Tensor<float>(squares, Device), new Tensor<float>(rows, Device));
        const float scale = 0.577f;
        Backend.AttentionForward(q, k, v, scores, pattern, z, batch, t, heads, dHead, scale);
        var (dPattern, dScores) = (new Tensor<float>(squares, Device), new Tensor<float>(squares, Device));
        Tensor<float> Start(bool accumulate, int seed) => accumulate ? Random(rows, seed) : Filled(rows, float.NaN);
        var (dq, dk, dv) = (Start(accumulateDq, 20), Start(accumulateDk, 21), Start(accumulateDv, 22));
        Tensor<float> Expected(Tensor<float> start, bool accumulate) => accumulate ? start.Clone() : Filled(rows, 0);
        var (eq, ek, ev) = (Expected(dq, accumulateDq), Expected(dk, accumulateDk), Expected(dv, accumulateDv));
        Backend.AttentionBackward(dz, q, k, v, pattern, dPattern, dScores, eq, ek, ev, batch, t, heads, dHead, scale, true, true, true);
        long launches = Device.Accelerator.Launches;
        Backend.AttentionBackward(dz, q, k, v, pattern, dPattern, dScores, dq, dk, dv, batch, t, heads, dHead, scale, accumulateDq, accumulateDk, accumulateDv);
        Assert.That(Device.Accelerator.Launches - launches, Is.EqualTo(1), "one kernel per (batch, head) pair in shared memory, no fills");
        Assert.That(dq.ToArray(), Is.EqualTo(eq.ToArray()).AsCollection, "dq");
        Assert.That(dk.ToArray(), Is.EqualTo(ek.ToArray()).AsCollection, "dk");
        Assert.That(dv.ToArray(), Is.EqualTo(ev.ToArray()).AsCollection, "dv");
    }

    /// <summary>q = v (one tensor): autograd asks dv to overwrite and dq to add (the CPU kernel's write order); the device must still sum both.</summary>
    [Test]
    public void Attention_TwoGradientsInOneBuffer()
    {
        const int batch = 1, t = 4, heads = 1, dHead = 2;
        int[] rows = [batch, t, heads, dHead], squares = [batch, heads, t, t];
        var (qv, k, dz) = (Random(rows, 30), Random(rows, 31), Random(rows, 32));
        var (scores, pattern, z) = (new Tensor<float>(squares, Device), new Tensor<float>(squares, Device), new Tensor<float>(rows, Device));
        Backend.AttentionForward(qv, k, qv, scores, pattern, z, batch, t, heads, dHead, 1f);
        var (dPattern, dScores) = (new Tensor<float>(squares, Device), new Tensor<float>(squares, Device));
        // Reference: separate buffers, added together.
        var (dq, dk, dv) = (Filled(rows, 0), Filled(rows, 0), Filled(rows, 0));
        Backend.AttentionBackward(dz, qv, k, qv, pattern, dPattern, dScores, dq, dk, dv, batch, t, heads, dHead, 1f, true, true, true);
        var expected = dq.ToArray().Zip(dv.ToArray(), (a, b) => a + b).ToArray();
        var (shared, dk2) = (Filled(rows, float.NaN), Filled(rows, float.NaN));
        Backend.AttentionBackward(dz, qv, k, qv, pattern, dPattern, dScores, shared, dk2, shared, batch, t, heads, dHead, 1f,
            accumulateDq: true, accumulateDk: false, accumulateDv: false);
        Assert.That(shared.ToArray(), Is.EqualTo(expected).Within(1e-6f).AsCollection, "dq + dv in one buffer");
        Assert.That(dk2.ToArray(), Is.EqualTo(dk.ToArray()).AsCollection, "dk");
    }
}
