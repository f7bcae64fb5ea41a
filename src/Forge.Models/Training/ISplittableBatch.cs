namespace Forge.Models.Training;

/// <summary>
/// A batch that can be cut into micro-batches (<see cref="MicroBatches"/>): its rows as batches of their
/// own, new batches of its kind to copy parts into, and how many terms its mean loss runs over.
/// </summary>
public interface ISplittableBatch<TBatch>
{
    /// <summary>Sequences in the batch.</summary>
    int BatchSize { get; }

    /// <summary>Rows [start, start + count) as a batch of their own: views of the same buffers, so filling this batch fills it.</summary>
    TBatch Rows(int start, int count);

    /// <summary>A new batch of the same kind, positions and device with <paramref name="count"/> rows and buffers of its own (zeros).</summary>
    TBatch WithRows(int count);

    /// <summary>Copies <paramref name="source"/>'s contents (as many rows as this batch) into this batch's buffers; allocates nothing.</summary>
    void CopyFrom(TBatch source);

    /// <summary>How many terms the batch's mean loss runs over, as the host copy holds them now (masked positions, rows).</summary>
    double LossTerms();
}
