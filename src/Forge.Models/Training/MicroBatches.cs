using System.Numerics;
using Forge.Autograd;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>
/// Builds a <see cref="MicroBatchGradient{T}"/> for a transformer and its batch: the batch's rows cut into
/// <c>parts</c> contiguous slices of (nearly) equal size, on the model itself when there is one part and otherwise
/// computed on lanes: replicas of the model (<see cref="Transformer{T}.SharingWeights"/>) with a batch of their own of a
/// part's size, into which each part's rows are copied before its turn (<see cref="MicroBatchGradient{T}"/>).
/// <para>
/// Micro-batches pay on the CPU only; on a GPU device the batch always runs whole (one part), so the
/// kernels get the largest problems.
/// </para>
/// </summary>
public static class MicroBatches
{
    /// <summary>
    /// <paramref name="batch"/> in <paramref name="parts"/> micro-batches, each with the loss <paramref name="loss"/>
    /// builds on its replica and its rows. A part weighs its share of the batch's loss terms
    /// (<see cref="ISplittableBatch{TBatch}.LossTerms"/>: masked positions for cross-entropy, rows for MSE), so
    /// padding rows and uneven parts count as in one pass.
    /// </summary>
    public static MicroBatchGradient<T> Of<T, TBatch>(Transformer<T> model, TBatch batch, int parts, Func<Transformer<T>, TBatch, Var<T>> loss)
        where T : unmanaged, IFloatingPointIeee754<T> where TBatch : ISplittableBatch<TBatch>
    {
        if (parts < 1 || parts > batch.BatchSize)
            throw new ArgumentOutOfRangeException(nameof(parts), parts, $"micro-batches must be between 1 and the batch size ({batch.BatchSize})");
        if (parts == 1 || model.Device is not CpuDevice) return MicroBatchGradient<T>.Whole(model.Parameters.All, () => loss(model, batch));
        var views = Slices(batch.BatchSize, parts).Select(rows => batch.Rows(rows.Start, rows.Count)).ToArray();
        // A part's kind is its row count: a lane (a replica with a batch of its own of that many rows) replays any such part.
        return new MicroBatchGradient<T>(model.Parameters.All, [.. views.Select(view => new MicroBatch(view.BatchSize, view.LossTerms))],
            part =>
            {
                var laneBatch = batch.WithRows(views[part].BatchSize);
                var replica = model.SharingWeights();
                return new MicroBatchLane<T>(replica.Parameters.All, () => loss(replica, laneBatch), c => laneBatch.CopyFrom(views[c]));
            });
    }

    /// <summary>
    /// How many parts a batch of <paramref name="rows"/> sequences is cut into for micro-batches of about
    /// <paramref name="microBatch"/> sequences: ⌈rows / microBatch⌉, or 1 when <paramref name="microBatch"/> is 0 or at least the batch.
    /// </summary>
    public static int Count(int rows, int microBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microBatch);
        return microBatch == 0 || microBatch >= rows ? 1 : (rows + microBatch - 1) / microBatch;
    }

    /// <summary>The rows of each part: <paramref name="rows"/> cut into <paramref name="parts"/> contiguous ranges whose sizes differ by at most one, larger ones first.</summary>
    public static (int Start, int Count)[] Slices(int rows, int parts)
    {
        if (parts < 1 || parts > rows) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"micro-batches must be between 1 and the batch size ({rows})");
        var slices = new (int, int)[parts];
        int start = 0;
        for (int c = 0; c < parts; c++)
        {
            int count = rows / parts + (c < rows % parts ? 1 : 0);
            slices[c] = (start, count);
            start += count;
        }
        return slices;
    }
}
