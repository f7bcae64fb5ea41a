namespace Forge.Experiments.Sorting;

/// <summary>
/// Gaps δᵢ = bᵢ₊₁ − bᵢ between adjacent numbers of the sorted list. For n numbers drawn without
/// replacement from M = max_value + 1 values, E[δ] = (M + 1)/(n + 1) and
/// P(δ = g) = C(M − g, n − 1)/C(M, n) (the spec's formulas), next to the empirical mean δ̄ of a data set.
/// </summary>
public static class GapStatistics
{
    public static double ExpectedMeanGap(int listLength, int maxValue) => (maxValue + 2.0) / (listLength + 1.0);

    /// <summary>P(δ = g) for a uniformly drawn list.</summary>
    public static double GapProbability(int gap, int listLength, int maxValue)
    {
        int m = maxValue + 1;
        if (gap < 1 || gap > m - listLength + 1) return 0;
        return Math.Exp(LogChoose(m - gap, listLength - 1) - LogChoose(m, listLength));
    }

    /// <summary>Mean gap δ̄ over the sorted halves of the sequences of a data set.</summary>
    public static double EmpiricalMeanGap(SortingTask task, IEnumerable<int[]> sequences)
    {
        double sum = 0;
        long count = 0;
        foreach (var sequence in sequences)
            for (int i = task.ListLength + 1; i < task.Context - 1; i++)
            {
                sum += sequence[i + 1] - sequence[i];
                count++;
            }
        return count == 0 ? double.NaN : sum / count;
    }

    static double LogChoose(int n, int k)
    {
        if (k < 0 || k > n) return double.NegativeInfinity;
        double result = 0;
        for (int i = 1; i <= k; i++) result += Math.Log(n - k + i) - Math.Log(i);
        return result;
    }
}
