namespace Forge.Experiments.Reports;

/// <summary>The few statistics the sweep report needs.</summary>
public static class SweepStats
{
    /// <summary>The median (mean of the middle two for an even count); NaN when empty.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Mean, sample standard deviation (0 for one value) and count; NaNs when empty.</summary>
    public static (double Mean, double Std, int Count) MeanStd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN, 0);
        double mean = v.Average();
        double std = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return (mean, std, v.Length);
    }

    /// <summary>Spearman's rank correlation (average ranks for ties); NaN when either side is constant or there are fewer than 3 pairs.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("SweepStats.Spearman: x and y differ in length.");
        if (x.Count < 3) return double.NaN;
        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>
    /// Whether labels depend on groups (e.g. final mode on δ̄ setting): the χ² statistic of the
    /// groups × labels table, and its p-value from <paramref name="permutations"/> random
    /// reassignments of the labels to the runs (exact for small counts, where the χ² approximation
    /// is poor). Deterministic: a fixed seed.
    /// </summary>
    public static (double ChiSquare, double PValue) PermutationTest(IReadOnlyList<int> group, IReadOnlyList<int> label, int permutations = 2000)
    {
        if (group.Count != label.Count) throw new ArgumentException("SweepStats.PermutationTest: group and label differ in length.");
        int groups = group.DefaultIfEmpty(-1).Max() + 1, labels = label.DefaultIfEmpty(-1).Max() + 1;
        double observed = ChiSquare(group, label, groups, labels);
        var shuffled = label.ToArray();
        var rng = new Rng(20250130);
        int atLeast = 0;
        for (int p = 0; p < permutations; p++)
        {
            rng.Shuffle(shuffled.AsSpan());
            if (ChiSquare(group, shuffled, groups, labels) >= observed - 1e-9) atLeast++;
        }
        return (observed, (atLeast + 1.0) / (permutations + 1.0));
    }

    static double ChiSquare(IReadOnlyList<int> group, IReadOnlyList<int> label, int groups, int labels)
    {
        var table = new double[groups, labels];
        var rows = new double[groups];
        var columns = new double[labels];
        for (int i = 0; i < group.Count; i++)
        {
            table[group[i], label[i]]++;
            rows[group[i]]++;
            columns[label[i]]++;
        }
        double n = group.Count, chi = 0;
        for (int g = 0; g < groups; g++)
            for (int l = 0; l < labels; l++)
            {
                double expected = rows[g] * columns[l] / n;
                if (expected > 0) chi += (table[g, l] - expected) * (table[g, l] - expected) / expected;
            }
        return chi;
    }

    /// <summary>Two-sided sign test: the probability of a split at least as uneven as <paramref name="successes"/> of <paramref name="trials"/> under p = ½.</summary>
    public static double SignTest(int successes, int trials)
    {
        if (trials == 0) return 1;
        int k = Math.Min(successes, trials - successes);
        double tail = 0;
        for (int i = 0; i <= k; i++) tail += Math.Exp(LogChoose(trials, i) - trials * Math.Log(2));
        return Math.Min(1, 2 * tail);
    }

    static double LogChoose(int n, int k)
    {
        double result = 0;
        for (int i = 1; i <= k; i++) result += Math.Log(n - k + i) - Math.Log(i);
        return result;
    }
}
