using System.Numerics;
using Forge.Autograd;
using Forge.Models.Transformers;

namespace Forge.Models.Training;

/// <summary>
/// Builds a <see cref="MicroBatchGradient{T}"/> for a transformer and its batch: the batch's rows cut into
/// <c>parts</c> contiguous slices of (nearly) equal size, part 0 on the model itself when there is one part
/// and otherwise each part on its own replica (<see cref="Transformer{T}.SharingWeights"/>).
/// <para>
/// Micro-batches pay on the CPU only; on a GPU device the batch always runs whole (one part), so the
/// kernels get the largest problems.
/// </para>
/// </summary>
public static class MicroBatches
{
    /// <summary>
    /// A token batch whose loss is a masked mean (cross-entropy): a part's terms are its masked positions,
    /// so padding rows and uneven parts weigh what they do in one pass.
    /// </summary>
    public static MicroBatchGradient<T> Tokens<T>(Transformer<T> model, TokenBatch<T> batch, int parts,
        Func<Transformer<T>, TokenBatch<T>, Var<T>> loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        parts = Resolve(model, batch.BatchSize, parts);
        if (parts == 1) return MicroBatchGradient<T>.Whole(model.Parameters.All, () => loss(model, batch));
        var slices = Slices(batch.BatchSize, parts).Select(r => batch.Rows(r.Start, r.Count)).ToArray();
        return new MicroBatchGradient<T>(model.Parameters.All, slices.Select(slice =>
        {
            var replica = model.SharingWeights();
            return new MicroBatch<T>(replica.Parameters.All, () => loss(replica, slice), slice.MaskSum);
        }).ToArray());
    }

    /// <summary>A regression batch whose loss is a mean over rows (MSE): a part's terms are its rows.</summary>
    public static MicroBatchGradient<T> Regression<T>(Transformer<T> model, RegressionBatch<T> batch, int parts,
        Func<Transformer<T>, RegressionBatch<T>, Var<T>> loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        parts = Resolve(model, batch.BatchSize, parts);
        if (parts == 1) return MicroBatchGradient<T>.Whole(model.Parameters.All, () => loss(model, batch));
        var slices = Slices(batch.BatchSize, parts).Select(r => batch.Rows(r.Start, r.Count)).ToArray();
        return new MicroBatchGradient<T>(model.Parameters.All, slices.Select(slice =>
        {
            var replica = model.SharingWeights();
            double rows = slice.BatchSize;
            return new MicroBatch<T>(replica.Parameters.All, () => loss(replica, slice), () => rows);
        }).ToArray());
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

    static int Resolve<T>(Transformer<T> model, int rows, int parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (parts < 1 || parts > rows) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"micro-batches must be between 1 and the batch size ({rows})");
        return model.Device is CpuDevice ? parts : 1;
    }
}
