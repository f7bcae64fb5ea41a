using System.Numerics;
using Forge.Experiments.Sorting;

namespace Forge.Tests.Experiments;

/// <summary>
/// The gap statistics against answers obtained without the code's formulas: exact BigInteger binomials,
/// enumeration of every list, hand-counted examples, and sampling through <see cref="SortingTask.Sample"/>.
/// For n distinct numbers from M = max_value + 1 values every adjacent gap has the same distribution
/// (the gaps of a uniform subset are exchangeable), so pooling all n − 1 gaps of a list estimates it.
/// </summary>
public class GapStatisticsTests
{
    static BigInteger Choose(int n, int k)
    {
        if (k < 0 || k > n) return BigInteger.Zero;
        BigInteger result = BigInteger.One;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;   // C(n−k+i, i): exact at every step
        return result;
    }

    /// <summary>C(M − g, n − 1)/C(M, n) from exact integers (one rounding per conversion).</summary>
    static double ClosedForm(int gap, int listLength, int maxValue)
    {
        int m = maxValue + 1;
        return gap < 1 ? 0 : (double)Choose(m - gap, listLength - 1) / (double)Choose(m, listLength);
    }

    // (n, max_value): hand-sized, the paper's, large binomials, and n = M (every gap is 1).
    static readonly object[][] Cases = [[2, 3], [3, 6], [4, 9], [10, 50], [5, 100], [20, 50], [5, 4]];

    [Test]
    public void TwoNumbersFromZeroToThreeCountedByHand()
    {
        // The six sets {0,1} {0,2} {0,3} {1,2} {1,3} {2,3} have gaps 1 2 3 1 2 1.
        int[] gaps = [1, 2, 3, 1, 2, 1];
        for (int g = 0; g <= 4; g++)
            Assert.That(GapStatistics.GapProbability(g, 2, 3), Is.EqualTo(gaps.Count(x => x == g) / 6.0).Within(1e-15), $"P(δ = {g})");
        Assert.That(GapStatistics.ExpectedMeanGap(2, 3), Is.EqualTo(gaps.Average()).Within(1e-15), "E[δ] = 10/6");
    }

    [TestCaseSource(nameof(Cases))]
    public void GapProbabilityIsTheExactBinomialRatio(int listLength, int maxValue)
    {
        // Over the whole support 1 … M − n + 1 (relative 1e-12: the code sums logarithms) and beyond it, where both must be exactly 0.
        for (int g = 0; g <= maxValue + 2; g++)
        {
            double exact = ClosedForm(g, listLength, maxValue);
            double actual = GapStatistics.GapProbability(g, listLength, maxValue);
            if (exact == 0) Assert.That(actual, Is.EqualTo(0), $"g = {g} is outside the support");
            else Assert.That(actual, Is.EqualTo(exact).Within(1e-10).Percent, $"P(δ = {g}), n = {listLength}, max = {maxValue}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ProbabilitiesSumToOneWithTheDocumentedMean(int listLength, int maxValue)
    {
        var p = Enumerable.Range(0, maxValue + 3).Select(g => GapStatistics.GapProbability(g, listLength, maxValue)).ToArray();
        Assert.That(p.Sum(), Is.EqualTo(1).Within(1e-12));
        Assert.That(p.Select((pg, g) => g * pg).Sum(), Is.EqualTo(GapStatistics.ExpectedMeanGap(listLength, maxValue)).Within(1e-10).Percent,
            "Σ g·P(g) = (M + 1)/(n + 1)");
    }

    [TestCase(3, 6)]
    [TestCase(4, 9)]
    [TestCase(6, 9)]
    public void EveryListEnumeratedGivesTheClosedForm(int listLength, int maxValue)
    {
        // All C(M, n) sets as bit masks; a set's sorted elements are its set bits in order.
        int m = maxValue + 1;
        var counts = new long[m + 1];
        long gaps = 0;
        for (int mask = 0; mask < 1 << m; mask++)
        {
            if (BitOperations.PopCount((uint)mask) != listLength) continue;
            int previous = -1;
            for (int value = 0; value < m; value++)
            {
                if ((mask >> value & 1) == 0) continue;
                if (previous >= 0) { counts[value - previous]++; gaps++; }
                previous = value;
            }
        }
        for (int g = 1; g <= m; g++)
            Assert.That(GapStatistics.GapProbability(g, listLength, maxValue), Is.EqualTo(counts[g] / (double)gaps).Within(1e-12), $"P(δ = {g})");
        Assert.That(GapStatistics.ExpectedMeanGap(listLength, maxValue), Is.EqualTo(counts.Select((c, g) => (double)c * g).Sum() / gaps).Within(1e-12));
    }

    [Test]
    public void SampledUniformListsFollowTheClosedForm()
    {
        // 20 000 lists of the paper's task (n = 10, max 50), fixed seed. Each list's n − 1 gap indicators
        // for one g are Bernoulli(p), so their mean has variance ≤ p(1 − p) whatever their correlation:
        // the bound per g is 5·√(p(1 − p)/lists). The mean gap (range/9 per list, σ ≈ 0.63) has a
        // standard error ≈ 0.0045; tolerance 0.025.
        var task = new SortingTask(10, 50).Validate();
        const int lists = 20_000;
        var rng = new Rng(2024);
        var sequences = new List<int[]>(lists);
        var counts = new long[task.MaxValue + 2];
        for (int i = 0; i < lists; i++)
        {
            var sequence = new int[task.Context];
            task.Sample(rng, sequence);
            sequences.Add(sequence);
            for (int j = task.ListLength + 1; j < task.Context - 1; j++) counts[sequence[j + 1] - sequence[j]]++;
        }
        double total = counts.Sum();
        for (int g = 1; g < counts.Length; g++)
        {
            double p = ClosedForm(g, task.ListLength, task.MaxValue);
            double bound = 5 * Math.Sqrt(p * (1 - p) / lists) + 1e-12;
            Assert.That(counts[g] / total, Is.EqualTo(p).Within(bound), $"empirical P(δ = {g}) over {total} gaps");
        }
        Assert.That(GapStatistics.EmpiricalMeanGap(task, sequences), Is.EqualTo(GapStatistics.ExpectedMeanGap(10, 50)).Within(0.025), "δ̄ vs 52/11");
    }

    [Test]
    public void EmpiricalMeanGapReadsTheSortedHalf()
    {
        // n = 3, SEP = 10: sorted halves 1 5 8 (gaps 4, 3) and 0 1 2 (gaps 1, 1); the unsorted halves
        // would give other numbers (−4, 7 and 2, −1).
        var task = new SortingTask(3, 9);
        int[][] sequences = [[5, 1, 8, 10, 1, 5, 8], [0, 2, 1, 10, 0, 1, 2]];
        Assert.That(GapStatistics.EmpiricalMeanGap(task, sequences), Is.EqualTo(9 / 4.0));
        Assert.That(GapStatistics.EmpiricalMeanGap(task, sequences.Take(1)), Is.EqualTo(3.5));
        Assert.That(GapStatistics.EmpiricalMeanGap(task, []), Is.NaN, "no sequences, no gaps");
        Assert.That(GapStatistics.EmpiricalMeanGap(new SortingTask(1, 9), [[4, 10, 4]]), Is.NaN, "one number has no gap");
    }
}
