using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>Fast <see cref="Attention"/> against <see cref="AttentionReference"/>, plus the properties both must have.</summary>
public class AttentionTests
{
    // Awkward sizes: t = 1 (a single visible key), dHead below, at and across the vector widths.
    static IEnumerable<TestCaseData> AwkwardSizes()
    {
        foreach (int batch in new[] { 1, 3 })
        foreach (int t in new[] { 1, 7, 33 })
        foreach (int heads in new[] { 1, 3 })
        foreach (int dHead in new[] { 1, 7, 33 })
            yield return new TestCaseData(batch, t, heads, dHead);
        // The model sizes (fewer batch rows: each pair runs the same code): sorting, small-width, longer context.
        yield return new TestCaseData(8, 21, 2, 48);
        yield return new TestCaseData(8, 16, 4, 16);
        yield return new TestCaseData(2, 64, 4, 32);
        yield return new TestCaseData(2, 5, 2, 8);
    }

    [TestCaseSource(nameof(AwkwardSizes))]
    public void Forward_MatchesReference_Float(int batch, int t, int heads, int dHead) =>
        CheckForwardMatchesReference<float>(batch, t, heads, dHead, tolerance: 1e-5);

    [TestCaseSource(nameof(AwkwardSizes))]
    public void Forward_MatchesReference_Double(int batch, int t, int heads, int dHead) =>
        CheckForwardMatchesReference<double>(batch, t, heads, dHead, tolerance: 1e-12);

    [TestCaseSource(nameof(AwkwardSizes))]
    public void Backward_MatchesReference_Float(int batch, int t, int heads, int dHead) =>
        CheckBackwardMatchesReference<float>(batch, t, heads, dHead, tolerance: 1e-5);

    [TestCaseSource(nameof(AwkwardSizes))]
    public void Backward_MatchesReference_Double(int batch, int t, int heads, int dHead) =>
        CheckBackwardMatchesReference<double>(batch, t, heads, dHead, tolerance: 1e-12);

    static void CheckForwardMatchesReference<T>(int batch, int t, int heads, int dHead, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = new AttentionTestData<T>(batch, t, heads, dHead, seed: 1);
        var expected = new AttentionTestData<T>(batch, t, heads, dHead, seed: 1);
        data.RunForward(fast: true);
        expected.RunForward(fast: false);
        AttentionTestData<T>.AssertClose(data.Scores, expected.Scores, tolerance, "scores");
        AttentionTestData<T>.AssertClose(data.Pattern, expected.Pattern, tolerance, "pattern");
        AttentionTestData<T>.AssertClose(data.Z, expected.Z, tolerance, "z");
    }

    static void CheckBackwardMatchesReference<T>(int batch, int t, int heads, int dHead, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Same inputs, same pattern, same nonzero starting gradients (so accumulation is compared too).
        var data = new AttentionTestData<T>(batch, t, heads, dHead, seed: 2);
        data.RunForward(fast: false);
        var expected = data.Clone();
        data.RunBackward(fast: true);
        expected.RunBackward(fast: false);
        AttentionTestData<T>.AssertClose(data.DPattern, expected.DPattern, tolerance, "dPattern");
        AttentionTestData<T>.AssertClose(data.DScores, expected.DScores, tolerance, "dScores");
        AttentionTestData<T>.AssertClose(data.DQ, expected.DQ, tolerance, "dq");
        AttentionTestData<T>.AssertClose(data.DK, expected.DK, tolerance, "dk");
        AttentionTestData<T>.AssertClose(data.DV, expected.DV, tolerance, "dv");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Forward_PatternRowsSumToOne_AndMaskedEntriesAreZero_Double(bool fast) =>
        CheckPatternRows<double>(fast, rowSumTolerance: 1e-14);

    [TestCase(true)]
    [TestCase(false)]
    public void Forward_PatternRowsSumToOne_AndMaskedEntriesAreZero_Float(bool fast) =>
        CheckPatternRows<float>(fast, rowSumTolerance: 1e-6);

    static void CheckPatternRows<T>(bool fast, double rowSumTolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int batch = 3, t = 19, heads = 2, dHead = 5;
        var data = new AttentionTestData<T>(batch, t, heads, dHead, seed: 3);
        data.RunForward(fast);
        for (int pair = 0; pair < batch * heads; pair++)
        for (int i = 0; i < t; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < t; j++)
            {
                T p = data.Pattern[(pair * t + i) * t + j], s = data.Scores[(pair * t + i) * t + j];
                rowSum += double.CreateChecked(p);
                if (j > i)
                {
                    Assert.That(p, Is.EqualTo(T.Zero), $"pattern[{pair}, {i}, {j}] above the diagonal");
                    Assert.That(s, Is.EqualTo(T.NegativeInfinity), $"scores[{pair}, {i}, {j}] above the diagonal");
                }
                else Assert.That(p, Is.GreaterThan(T.Zero));
            }
            Assert.That(rowSum, Is.EqualTo(1.0).Within(rowSumTolerance), $"pattern row ({pair}, {i})");
        }
    }

    [Test]
    public void Forward_ScoresAreScaledDotProducts()
    {
        const int batch = 2, t = 4, heads = 3, dHead = 6;
        var data = new AttentionTestData<double>(batch, t, heads, dHead, seed: 4);
        data.RunForward(fast: true);
        int b = 1, h = 2, i = 3, j = 1;
        double dot = 0;
        for (int d = 0; d < dHead; d++)
            dot += data.Q[((b * t + i) * heads + h) * dHead + d] * data.K[((b * t + j) * heads + h) * dHead + d];
        Assert.That(data.Scores[((b * heads + h) * t + i) * t + j], Is.EqualTo(data.Scale * dot).Within(1e-14));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Forward_HugeScores_DoNotOverflow(bool fast)
    {
        // exp(1000) overflows even double; the max subtraction must keep the softmax finite.
        var data = new AttentionTestData<float>(1, 5, 1, 4, seed: 5);
        data.Scale = 1000f;
        data.RunForward(fast);
        Assert.That(data.Pattern.All(float.IsFinite), Is.True);
        Assert.That(data.Z.All(float.IsFinite), Is.True);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Backward_CalledTwice_DoublesTheGradients(bool fast)
    {
        var data = new AttentionTestData<double>(2, 7, 3, 9, seed: 6);
        data.RunForward(fast);
        data.ZeroGradients();
        data.RunBackward(fast);
        var once = data.Clone();
        data.RunBackward(fast);
        AttentionTestData<double>.AssertClose(data.DQ, once.DQ.Select(x => 2 * x).ToArray(), 1e-14, "dq");
        AttentionTestData<double>.AssertClose(data.DK, once.DK.Select(x => 2 * x).ToArray(), 1e-14, "dk");
        AttentionTestData<double>.AssertClose(data.DV, once.DV.Select(x => 2 * x).ToArray(), 1e-14, "dv");
    }

    [Test]
    public void OneThreadAndTwoThreads_GiveBitIdenticalResults()
    {
        int saved = ForkJoin.Threads;
        try
        {
            ForkJoin.Threads = 1;
            // 128 pairs: enough for ForkJoin to split them between the two threads.
            var single = new AttentionTestData<float>(64, 21, 2, 48, seed: 7);
            single.RunForward(fast: true);
            single.RunBackward(fast: true);
            ForkJoin.Threads = 2;
            var dual = new AttentionTestData<float>(64, 21, 2, 48, seed: 7);
            dual.RunForward(fast: true);
            dual.RunBackward(fast: true);
            Assert.That(dual.Scores, Is.EqualTo(single.Scores).AsCollection);
            Assert.That(dual.Pattern, Is.EqualTo(single.Pattern).AsCollection);
            Assert.That(dual.Z, Is.EqualTo(single.Z).AsCollection);
            Assert.That(dual.DQ, Is.EqualTo(single.DQ).AsCollection);
            Assert.That(dual.DK, Is.EqualTo(single.DK).AsCollection);
            Assert.That(dual.DV, Is.EqualTo(single.DV).AsCollection);
        }
        finally { ForkJoin.Threads = saved; }
    }

    [Test]
    public void Forward_GivesTheSameBitsWhereverItsBuffersLie_Float() => SameBitsAtEveryOffset<float>();

    [Test]
    public void Forward_GivesTheSameBitsWhereverItsBuffersLie_Double() => SameBitsAtEveryOffset<double>();

    /// <summary>
    /// The same inputs placed at 0–15 elements into larger arrays (every alignment a managed array can have, and
    /// more) give the same scores, pattern and z bit for bit. Before the doubles' exponential went through an aligned
    /// copy, double attention on AVX2 machines differed in the last bits from one offset to the next.
    /// </summary>
    static void SameBitsAtEveryOffset<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int batch = 4, t = 6, heads = 3, dHead = 4;
        int rows = batch * t * heads * dHead, squares = batch * heads * t * t;
        var rng = new Random(1);
        T[] Values(int n) => Enumerable.Range(0, n).Select(_ => T.CreateChecked(rng.NextDouble() * 4 - 2)).ToArray();
        var (q, k, v) = (Values(rows), Values(rows), Values(rows));
        T[]? firstScores = null, firstPattern = null, firstZ = null;
        for (int offset = 0; offset < 16; offset++)
        {
            T[] Placed(T[] source, int length)
            {
                var buffer = new T[length + 16];
                source.CopyTo(buffer, offset);
                return buffer;
            }
            var (qb, kb, vb) = (Placed(q, rows), Placed(k, rows), Placed(v, rows));
            var (scores, pattern, z) = (new T[squares + 16], new T[squares + 16], new T[rows + 16]);
            Attention.Forward<T>(qb.AsSpan(offset, rows), kb.AsSpan(offset, rows), vb.AsSpan(offset, rows),
                scores.AsSpan(offset, squares), pattern.AsSpan(offset, squares), z.AsSpan(offset, rows), batch, t, heads, dHead, T.CreateChecked(0.5));
            var (s, p, zz) = (scores.AsSpan(offset, squares).ToArray(), pattern.AsSpan(offset, squares).ToArray(), z.AsSpan(offset, rows).ToArray());
            if (firstScores is null) (firstScores, firstPattern, firstZ) = (s, p, zz);
            Assert.That(s, Is.EqualTo(firstScores).AsCollection, $"scores, offset {offset}");
            Assert.That(p, Is.EqualTo(firstPattern).AsCollection, $"pattern, offset {offset}");
            Assert.That(zz, Is.EqualTo(firstZ).AsCollection, $"z, offset {offset}");
        }
    }

    [Test]
    public void ForwardAndBackward_DoNotAllocate()
    {
        var data = new AttentionTestData<float>(64, 21, 2, 48, seed: 8);
        data.RunForward(fast: true);   // warm up: JIT, ForkJoin workers
        data.RunBackward(fast: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        data.RunForward(fast: true);
        data.RunBackward(fast: true);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void ShortSpan_ThrowsArgumentException_NamingKernelArgumentAndLengths()
    {
        var data = new AttentionTestData<float>(2, 3, 2, 4, seed: 9);   // rows: 2·3·2·4 = 48, squares: 2·2·3·3 = 36
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward<float>(
            data.Q, data.K.AsSpan(0, 47), data.V, data.Scores, data.Pattern, data.Z, 2, 3, 2, 4, 0.5f))!;
        Assert.That(ex.ParamName, Is.EqualTo("k"));
        Assert.That(ex.Message, Does.Contain("Attention.Forward").And.Contain("47").And.Contain("48"));

        ex = Assert.Throws<ArgumentException>(() => Attention.Backward<float>(
            data.DZ, data.Q, data.K, data.V, data.Pattern, data.DPattern, data.DScores.AsSpan(0, 35),
            data.DQ, data.DK, data.DV, 2, 3, 2, 4, 0.5f))!;
        Assert.That(ex.ParamName, Is.EqualTo("dScoresScratch"));
        Assert.That(ex.Message, Does.Contain("Attention.Backward").And.Contain("35").And.Contain("36"));

        ex = Assert.Throws<ArgumentException>(() => AttentionReference.Forward<float>(
            data.Q, data.K, data.V, data.Scores, data.Pattern, data.Z, 2, -3, 2, 4, 0.5f))!;
        Assert.That(ex.Message, Does.Contain("AttentionReference.Forward").And.Contain("t=-3"));
    }

    [Test]
    public void ZeroSizes_DoNothing()
    {
        Attention.Forward<float>([], [], [], [], [], [], 0, 5, 2, 4, 1f);
        Attention.Backward<float>([], [], [], [], [], [], [], [], [], [], 3, 0, 2, 4, 1f);
    }
}

/// <summary>Random inputs and all the buffers of one attention call, for the attention tests.</summary>
internal sealed class AttentionTestData<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly int Batch, Positions, Heads, DHead;
    public T Scale;
    public T[] Q, K, V, Scores, Pattern, Z;            // forward
    public T[] DZ, DPattern, DScores, DQ, DK, DV;      // backward

    public AttentionTestData(int batch, int t, int heads, int dHead, int seed)
    {
        Batch = batch; Positions = t; Heads = heads; DHead = dHead;
        Scale = T.One / T.Sqrt(T.CreateChecked(Math.Max(dHead, 1)));
        var random = new Random(seed);
        int rows = batch * t * heads * dHead, squares = batch * heads * t * t;
        // Inputs of size ~2 make the softmax rows far from uniform.
        Q = Random(random, rows, 2); K = Random(random, rows, 2); V = Random(random, rows, 1);
        DZ = Random(random, rows, 1);
        DQ = Random(random, rows, 1); DK = Random(random, rows, 1); DV = Random(random, rows, 1);
        // Outputs start as NaN so an entry the kernel forgets to write shows up.
        Scores = NaNs(squares); Pattern = NaNs(squares); Z = NaNs(rows);
        DPattern = NaNs(squares); DScores = NaNs(squares);
    }

    AttentionTestData(AttentionTestData<T> other)
    {
        Batch = other.Batch; Positions = other.Positions; Heads = other.Heads; DHead = other.DHead; Scale = other.Scale;
        Q = [.. other.Q]; K = [.. other.K]; V = [.. other.V]; Scores = [.. other.Scores]; Pattern = [.. other.Pattern]; Z = [.. other.Z];
        DZ = [.. other.DZ]; DPattern = [.. other.DPattern]; DScores = [.. other.DScores];
        DQ = [.. other.DQ]; DK = [.. other.DK]; DV = [.. other.DV];
    }

    public AttentionTestData<T> Clone() => new(this);

    public void ZeroGradients()
    {
        Array.Clear(DQ); Array.Clear(DK); Array.Clear(DV);
    }

    public void RunForward(bool fast)
    {
        if (fast) Attention.Forward<T>(Q, K, V, Scores, Pattern, Z, Batch, Positions, Heads, DHead, Scale);
        else AttentionReference.Forward<T>(Q, K, V, Scores, Pattern, Z, Batch, Positions, Heads, DHead, Scale);
    }

    public void RunBackward(bool fast)
    {
        if (fast) Attention.Backward<T>(DZ, Q, K, V, Pattern, DPattern, DScores, DQ, DK, DV, Batch, Positions, Heads, DHead, Scale);
        else AttentionReference.Backward<T>(DZ, Q, K, V, Pattern, DPattern, DScores, DQ, DK, DV, Batch, Positions, Heads, DHead, Scale);
    }

    /// <summary>Every entry within tolerance·max(1, |expected|); equal infinities match.</summary>
    public static void AssertClose(T[] actual, T[] expected, double tolerance, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        for (int n = 0; n < actual.Length; n++)
        {
            double a = double.CreateChecked(actual[n]), e = double.CreateChecked(expected[n]);
            if (a == e) continue;   // also -∞ == -∞
            if (!(Math.Abs(a - e) <= tolerance * Math.Max(1, Math.Abs(e))))
                Assert.Fail($"{name}[{n}] = {a:R}, expected {e:R} (tolerance {tolerance:g2})");
        }
    }

    static T[] Random(Random random, int length, double magnitude)
    {
        var values = new T[length];
        for (int n = 0; n < length; n++) values[n] = T.CreateChecked(magnitude * (2 * random.NextDouble() - 1));
        return values;
    }

    static T[] NaNs(int length)
    {
        var values = new T[length];
        Array.Fill(values, T.NaN);
        return values;
    }
}
