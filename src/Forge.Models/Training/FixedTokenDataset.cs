using System.Numerics;

namespace Forge.Models.Training;

/// <summary>
/// A fixed set of equal-length token sequences, visited in a new random order every epoch (the order
/// of epoch e comes from the seed and e alone). The last batch of an epoch may be short; its missing
/// rows are blanked with mask 0, which leaves the masked-mean loss exactly that of the short batch.
/// </summary>
public sealed class FixedTokenDataset<T> : IBatchSource<TokenBatch<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly int[] _sequences;       // (count, positions)
    readonly T[] _positionMask;      // (positions): which next-token predictions count
    readonly int _batchSize;
    readonly ulong _seed;
    int[]? _order;
    int _orderEpoch = -1;

    public FixedTokenDataset(int[] sequences, int positions, T[] positionMask, int batchSize, ulong seed)
    {
        if (sequences.Length % positions != 0) throw new ArgumentException($"FixedTokenDataset: {sequences.Length} tokens are not a whole number of sequences of {positions}");
        if (positionMask.Length != positions) throw new ArgumentException($"FixedTokenDataset: position mask has {positionMask.Length} entries, sequences have {positions} positions");
        (_sequences, Positions, _positionMask, _batchSize, _seed) = (sequences, positions, positionMask, batchSize, seed);
        Count = sequences.Length / positions;
        if (Count == 0) throw new ArgumentException("FixedTokenDataset: no sequences");
    }

    public int Count { get; }
    public int Positions { get; }
    public int StepsPerEpoch => (Count + _batchSize - 1) / _batchSize;
    public ReadOnlySpan<int> Sequence(int index) => _sequences.AsSpan(index * Positions, Positions);
    public ReadOnlySpan<T> PositionMask => _positionMask;

    public void Fill(int step, TokenBatch<T> batch)
    {
        int epoch = step / StepsPerEpoch, first = step % StepsPerEpoch * _batchSize;
        if (epoch != _orderEpoch)
        {
            _order ??= new int[Count];
            for (int i = 0; i < Count; i++) _order[i] = i;
            Rng.ForStream(_seed, (ulong)epoch).Shuffle(_order.AsSpan());
            _orderEpoch = epoch;
        }
        for (int row = 0; row < batch.BatchSize; row++)
        {
            if (first + row < Count) batch.SetRow(row, Sequence(_order![first + row]), _positionMask);
            else batch.ClearRow(row);
        }
    }

    /// <summary>Fills <paramref name="batch"/> with sequences drawn uniformly at random (with replacement) — for samplers such as SGLD.</summary>
    public void FillRandom(Rng rng, TokenBatch<T> batch)
    {
        for (int row = 0; row < batch.BatchSize; row++) batch.SetRow(row, Sequence(rng.NextInt(Count)), _positionMask);
    }

    /// <summary>Fills <paramref name="batch"/> with sequences [start, start + batch) in stored order (evaluation); returns how many rows are real.</summary>
    public int FillInOrder(int start, TokenBatch<T> batch)
    {
        int real = Math.Min(batch.BatchSize, Count - start);
        for (int row = 0; row < batch.BatchSize; row++)
        {
            if (row < real) batch.SetRow(row, Sequence(start + row), _positionMask);
            else batch.ClearRow(row);
        }
        return real;
    }
}
