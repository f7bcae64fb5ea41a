using Forge.Models.Training;

namespace Forge.Experiments.Sorting;

/// <summary>
/// The list-sorting task: sequences [a₁ … aₙ, SEP, b₁ … bₙ] where a are n distinct integers from
/// 0..max_value in random order and b is a sorted ascending; SEP = max_value + 1, so the vocabulary is
/// max_value + 2 and the context 2n + 1. The loss counts the n predictions of the sorted list: those
/// made at SEP and at b₁ … bₙ₋₁ (positions n … 2n−1).
/// <para>
/// Lists are drawn either uniformly (sampling without replacement — the paper's setup) or with a
/// controlled gap distribution: the gaps δᵢ = bᵢ₊₁ − bᵢ are drawn i.i.d. as 1 + Geometric with mean
/// <see cref="GapMean"/> (rejecting lists that do not fit below max_value), and the start uniformly
/// among the positions that fit. [ours]
/// </para>
/// </summary>
public sealed record SortingTask(int ListLength = 10, int MaxValue = 50, double? GapMean = null)
{
    public int Separator => MaxValue + 1;
    public int Vocabulary => MaxValue + 2;
    public int Context => 2 * ListLength + 1;

    public SortingTask Validate()
    {
        if (ListLength < 1) throw new ArgumentException($"sorting: list length must be ≥ 1, got {ListLength}");
        if (ListLength > (int.MaxValue - 1) / 2) throw new ArgumentException($"sorting: list length {ListLength} makes the context 2n + 1 longer than {int.MaxValue}");
        if (MaxValue > int.MaxValue - 2) throw new ArgumentException($"sorting: max_value {MaxValue} leaves no room for the separator token (at most {int.MaxValue - 2})");
        if ((long)MaxValue + 1 < ListLength) throw new ArgumentException($"sorting: cannot draw {ListLength} distinct numbers from 0..{MaxValue}");
        if (GapMean is double g && (g < 1 || (ListLength - 1) * g > MaxValue))
            throw new ArgumentException($"sorting: gap mean {g} must be ≥ 1 and fit {ListLength} numbers below {MaxValue + 1} (≤ {(double)MaxValue / Math.Max(1, ListLength - 1):F2})");
        return this;
    }

    /// <summary>1 for the positions whose next-token prediction is a sorted element.</summary>
    public float[] PositionMask()
    {
        var mask = new float[Context];
        for (int p = ListLength; p < 2 * ListLength; p++) mask[p] = 1;
        return mask;
    }

    /// <summary>Writes one sequence [a, SEP, sorted(a)] into <paramref name="sequence"/> (length 2n+1).</summary>
    public void Sample(Rng rng, Span<int> sequence)
    {
        var list = sequence[..ListLength];
        if (GapMean is null) rng.SampleWithoutReplacement(MaxValue + 1, list);
        else SampleWithGaps(rng, list);
        sequence[ListLength] = Separator;
        var sorted = sequence[(ListLength + 1)..];
        list.CopyTo(sorted);
        sorted.Sort();
    }

    void SampleWithGaps(Rng rng, Span<int> list)
    {
        double successProbability = 1.0 / GapMean!.Value; // 1 + Geometric(p) on {0, 1, …} has mean 1/p
        while (true)
        {
            int span = 0;
            list[0] = 0;
            for (int i = 1; i < ListLength; i++)
            {
                int gap = 1;
                while (rng.NextDouble() >= successProbability) gap++;
                span += gap;
                list[i] = span;
            }
            if (span > MaxValue) continue;
            int start = rng.NextInt(MaxValue - span + 1);
            for (int i = 0; i < ListLength; i++) list[i] += start;
            rng.Shuffle(list);
            return;
        }
    }

    /// <summary>A fixed data set of <paramref name="count"/> sequences drawn from <paramref name="seed"/>.</summary>
    public FixedTokenDataset<float> Dataset(int count, int batchSize, ulong seed, ulong shuffleSeed)
    {
        var rng = new Rng(seed);
        var sequences = new int[count * Context];
        for (int i = 0; i < count; i++) Sample(rng, sequences.AsSpan(i * Context, Context));
        return new FixedTokenDataset<float>(sequences, Context, PositionMask(), batchSize, shuffleSeed);
    }
}
