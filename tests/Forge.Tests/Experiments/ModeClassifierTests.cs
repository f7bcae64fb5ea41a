using Forge.Experiments.Sorting;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>
/// The mode classifier on synthetic full OV circuits whose copy scores are known by construction:
/// a diagonal value v on token t gives c[t] = v·(1 − 1/numbers) (the row mean is v/numbers), so after
/// scaling by the model's largest |c| a head with diagonal ±1 scores exactly ±1 and one with diagonal v
/// next to a ±1 head scores v. Every matrix carries a SEP row and column of large junk, which the
/// classifier must ignore (it reads number tokens only).
/// </summary>
public class ModeClassifierTests
{
    const int Numbers = 51;   // 0..50, the sorting task's numbers
    const double Junk = 1e3;

    /// <summary>A (numbers + 1)² full OV circuit with <paramref name="diagonal"/>(t) on the number diagonal, 0 elsewhere, junk on SEP.</summary>
    static double[,] Ov(Func<int, double> diagonal, int numbers = Numbers)
    {
        var m = new double[numbers + 1, numbers + 1];
        for (int t = 0; t < numbers; t++) m[t, t] = diagonal(t);
        for (int t = 0; t <= numbers; t++) m[numbers, t] = m[t, numbers] = Junk;
        return m;
    }

    static Func<int, double> On(int first, int last, double value = 1) => t => t >= first && t <= last ? value : 0;

    /// <summary>A full QK circuit: <paramref name="sign"/>·(1 + i + 2j) on numbers, junk on SEP.</summary>
    static double[,] Qk(double sign = 1, int numbers = Numbers)
    {
        var m = new double[numbers + 1, numbers + 1];
        for (int i = 0; i <= numbers; i++)
            for (int j = 0; j <= numbers; j++) m[i, j] = i == numbers || j == numbers ? Junk : sign * (1 + i + 2 * j);
        return m;
    }

    static ModeClassification Classify(params double[][,] ov) => ModeClassifier.Classify(ov, ov.Select(_ => Qk()).ToArray(), ov[0].GetLength(0) - 1);

    static string Describe(ModeClassification c) =>
        $"{c.Mode}: {c.Explanation}; copies {string.Join(" | ", c.Heads.Select(h => $"h{h.Head} +{h.Copies.Length}/−{h.Suppresses.Length}"))}";

    [Test]
    public void OneHeadIsSingleHead()
    {
        var result = Classify(Ov(_ => 1));
        Assert.That(result.Mode, Is.EqualTo(SortingMode.SingleHead), Describe(result));
        Assert.That(result.Heads[0].Copies, Is.EqualTo(Enumerable.Range(0, Numbers)), "a full diagonal copies every number");
        Assert.That(result.Heads[0].Regions, Is.EqualTo(new[] { (0, 50) }));
        Assert.That(result.QkSimilarity[0, 0], Is.EqualTo(1).Within(1e-12), "a head is its own QK twin");
    }

    [Test]
    public void DisjointCopyRangesAreVocabularySplitting()
    {
        var result = Classify(Ov(On(0, 24)), Ov(On(25, 50)));
        Assert.That(result.Mode, Is.EqualTo(SortingMode.VocabularySplitting), Describe(result));
        Assert.That(result.Heads[0].Regions, Is.EqualTo(new[] { (0, 24) }));
        Assert.That(result.Heads[1].Regions, Is.EqualTo(new[] { (25, 50) }));
        Assert.That(result.MaxCopyOverlap, Is.EqualTo(0));
        Assert.That(result.SuppressionPair, Is.Null);
    }

    [Test]
    public void ACopierWithASuppressorOfMostNumbersIsCopySuppression()
    {
        // Head 1 pushes down 40 of the 51 numbers that head 0 copies; its QK circuit is head 0's negated.
        var ov = new[] { Ov(_ => 1), Ov(On(0, 39, -1)) };
        var result = ModeClassifier.Classify(ov, [Qk(), Qk(-1)], Numbers);
        Assert.That(result.Mode, Is.EqualTo(SortingMode.CopySuppression), Describe(result));
        Assert.That(result.SuppressionPair, Is.EqualTo((0, 1)), "(copier, suppressor)");
        Assert.That(result.Heads[1].Suppresses, Is.EqualTo(Enumerable.Range(0, 40)));
        Assert.That(result.Heads[1].CopyScore[0], Is.EqualTo(-1).Within(1e-12), "diagonal −1 next to a +1 head scores −1");
        Assert.That(result.QkSimilarity[0, 1], Is.EqualTo(-1).Within(1e-12), "opposite QK circuits");
        Assert.That(result.QkSimilarity[1, 0], Is.EqualTo(-1).Within(1e-12));
    }

    [Test]
    public void HeadsCopyingTheSameRangeAreOverlapping()
    {
        var result = Classify(Ov(_ => 1), Ov(_ => 0.5));
        Assert.That(result.Mode, Is.EqualTo(SortingMode.Overlapping), Describe(result));
        Assert.That(result.MaxCopyOverlap, Is.EqualTo(1));
    }

    [TestCase(4, SortingMode.VocabularySplitting)]   // 16 % of the smaller set
    [TestCase(5, SortingMode.VocabularySplitting)]   // exactly 20 %: the bound is inclusive (≤)
    [TestCase(6, SortingMode.Overlapping)]           // 24 %
    public void SplittingAllowsAtMostTwentyPercentOverlap(int shared, SortingMode expected)
    {
        // Head 0 copies 0..24 (25 numbers, the smaller set), head 1 copies (25 − shared)..50.
        var result = Classify(Ov(On(0, 24)), Ov(On(25 - shared, 50)));
        Assert.That(result.MaxCopyOverlap, Is.EqualTo(shared / 25.0).Within(1e-15));
        Assert.That(result.Mode, Is.EqualTo(expected), Describe(result));
    }

    [TestCase(51, 15, SortingMode.Overlapping)]      // 29.4 % of the numbers: not a suppressor
    [TestCase(51, 16, SortingMode.CopySuppression)]  // 31.4 %
    [TestCase(50, 14, SortingMode.Overlapping)]      // 28 %
    [TestCase(50, 15, SortingMode.CopySuppression)]  // exactly 30 %: the bound is inclusive (≥)
    public void ASuppressorMustPushDownAtLeastThirtyPercentOfTheNumbers(int numbers, int suppressed, SortingMode expected)
    {
        // Without a suppressor only one head copies, which the classifier calls overlapping.
        var ov = new[] { Ov(_ => 1, numbers), Ov(On(0, suppressed - 1, -1), numbers) };
        var result = ModeClassifier.Classify(ov, [Qk(1, numbers), Qk(1, numbers)], numbers);
        Assert.That(result.Heads[1].Suppresses, Has.Length.EqualTo(suppressed));
        Assert.That(result.Mode, Is.EqualTo(expected), Describe(result));
    }

    [TestCase(10, SortingMode.CopySuppression)]  // the copier copies 10 of the 20 suppressed numbers: 50 %, inclusive
    [TestCase(11, SortingMode.Overlapping)]      // 9 of 20: 45 %
    public void AtLeastHalfOfTheSuppressedNumbersMustBeCopied(int firstCopied, SortingMode expected)
    {
        var result = Classify(Ov(On(firstCopied, 50)), Ov(On(0, 19, -1)));
        Assert.That(result.Mode, Is.EqualTo(expected), Describe(result));
    }

    [Test]
    public void CopySuppressionIsCheckedBeforeSplitting()
    {
        // Copy sets 0..30 and 40..50 are disjoint (splitting on their own), but head 1 also suppresses
        // 0..19, all copied by head 0: the documented order makes it copy-suppression.
        var result = Classify(Ov(On(0, 30)), Ov(t => t >= 40 ? 1 : t < 20 ? -1 : 0));
        Assert.That(result.MaxCopyOverlap, Is.EqualTo(0));
        Assert.That(result.Mode, Is.EqualTo(SortingMode.CopySuppression), Describe(result));
        Assert.That(result.SuppressionPair, Is.EqualTo((0, 1)));
    }

    [TestCase(0.25, SortingMode.VocabularySplitting)]  // above τ = 0.2: head 1 copies 25..50
    [TestCase(0.15, SortingMode.Overlapping)]          // below τ: head 1 copies nothing, one copying head
    public void AHeadCopiesATokenWhenItsScaledScoreExceedsTheThreshold(double weakDiagonal, SortingMode expected)
    {
        var result = Classify(Ov(On(0, 24)), Ov(On(25, 50, weakDiagonal)));
        Assert.That(result.Heads[1].CopyScore[30], Is.EqualTo(weakDiagonal).Within(1e-12), "scaled by the other head's score");
        Assert.That(result.Mode, Is.EqualTo(expected), Describe(result));
    }

    [Test]
    public void CopyScoresAreTheDiagonalMinusTheRowMeanScaledByTheLargest()
    {
        // Rows: t = 0 favours itself (3 − 1 = 2), t = 1 raises every logit alike (1 − 1 = 0), t = 2
        // lowers itself (−3 + 1 = −2); scaled by 2. The SEP column would change the means if it were read.
        var ov = new double[,] { { 3, 0, 0, Junk }, { 1, 1, 1, Junk }, { 0, 0, -3, Junk }, { Junk, Junk, Junk, Junk } };
        var head = ModeClassifier.Classify([ov], [Qk(1, 3)], 3).Heads[0];
        Assert.That(head.CopyScore, Is.EqualTo(new[] { 1.0, 0, -1 }).Within(1e-15));
        Assert.That(head.Copies, Is.EqualTo(new[] { 0 }));
        Assert.That(head.Suppresses, Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void QkSimilarityIsTheCosineOfTheNumberBlocks()
    {
        // Identity, its negation, and an off-diagonal circuit orthogonal to both (SEP entries are junk).
        static double[,] Block(Func<int, int, double> f)
        {
            var m = new double[4, 4];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) m[i, j] = i == 3 || j == 3 ? Junk : f(i, j);
            return m;
        }
        var qk = new[] { Block((i, j) => i == j ? 1 : 0), Block((i, j) => i == j ? -2 : 0), Block((i, j) => (i + 1) % 3 == j ? 5 : 0) };
        var ov = qk.Select(_ => Ov(_ => 1, 3)).ToArray();
        var similarity = ModeClassifier.Classify(ov, qk, 3).QkSimilarity;
        var expected = new double[,] { { 1, -1, 0 }, { -1, 1, 0 }, { 0, 0, 1 } };
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) Assert.That(similarity[a, b], Is.EqualTo(expected[a, b]).Within(1e-12), $"heads {a}, {b}");
    }

    [Test]
    public void RegionsAreMaximalRunsOfConsecutiveTokens()
    {
        Assert.That(ModeClassifier.Regions([]), Is.Empty);
        Assert.That(ModeClassifier.Regions([7]), Is.EqualTo(new[] { (7, 7) }));
        Assert.That(ModeClassifier.Regions([3, 4, 5, 6]), Is.EqualTo(new[] { (3, 6) }));
        Assert.That(ModeClassifier.Regions([0, 1, 2, 5, 7, 8]), Is.EqualTo(new[] { (0, 2), (5, 5), (7, 8) }));
        Assert.That(ModeClassifier.Regions([10, 12, 14]), Is.EqualTo(new[] { (10, 10), (12, 12), (14, 14) }));
    }

    [Test]
    public void ClassifyingCircuitsReadsLayerZerosFullOvAndQkOfEveryHead()
    {
        // A 2-head circuit set built by hand: W_E = W_U = I (vocabulary 52 = 51 numbers + SEP), W_V of
        // head h keeps its half of the numbers, W_O = W_Q = I, W_K = ±I — full OV is diagonal on each
        // head's half, full QK is ±I: vocabulary splitting, with QK similarity −1.
        const int vocab = Numbers + 1;
        static double[,] Diagonal(Func<int, double> value)
        {
            var m = new double[vocab, vocab];
            for (int i = 0; i < vocab; i++) m[i, i] = value(i);
            return m;
        }
        var identity = Diagonal(_ => 1);
        var weights = new Dictionary<string, double[,]>
        {
            ["embed.W_E"] = identity, ["unembed.W_U"] = identity,
            ["blocks.0.attn.W_V.0"] = Diagonal(On(0, 24)), ["blocks.0.attn.W_V.1"] = Diagonal(On(25, 50)),
            ["blocks.0.attn.W_O.0"] = identity, ["blocks.0.attn.W_O.1"] = identity,
            ["blocks.0.attn.W_Q.0"] = identity, ["blocks.0.attn.W_Q.1"] = identity,
            ["blocks.0.attn.W_K.0"] = identity, ["blocks.0.attn.W_K.1"] = Diagonal(_ => -1),
        };
        var config = new TransformerConfig { NHeads = 2, DModel = vocab, DHead = vocab, NCtx = 21, DVocab = vocab, DVocabOut = vocab, Normalization = "none" };

        var result = ModeClassifier.Classify(new Circuits(weights, config), Numbers);

        Assert.That(result.Mode, Is.EqualTo(SortingMode.VocabularySplitting), Describe(result));
        Assert.That(result.Heads.Select(h => h.Regions.Single()), Is.EqualTo(new[] { (0, 24), (25, 50) }));
        Assert.That(result.QkSimilarity[0, 1], Is.EqualTo(-1).Within(1e-12));
    }
}
