using System.Numerics;

namespace Forge.Models.Training;

/// <summary>
/// One batch of token sequences with next-token targets: <c>Targets[b, p]</c> is the token the
/// prediction at position p should give (tokens[b, p+1]); <c>Mask[b, p]</c> is 1 where that prediction
/// counts in the loss (the last position, and padding rows, are 0). Buffers are refilled in place
/// every step, so a recorded training step can be replayed on them.
/// <para>
/// On a device other than the CPU the batch is written on the host (<see cref="HostTokens"/>, …) and
/// <see cref="Upload"/> copies it into the device tensors the recorded graph reads (<see cref="Tokens"/>,
/// …); on the CPU both are the same tensors and <see cref="Upload"/> does nothing.
/// </para>
/// </summary>
public sealed class TokenBatch<T> : IDeviceBatch, ISplittableBatch<TokenBatch<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public TokenBatch(int batchSize, int positions, Device? device = null)
    {
        HostTokens = Tensor.Zeros<int>(batchSize, positions);
        HostTargets = Tensor.Zeros<int>(batchSize, positions);
        HostMask = Tensor.Zeros<T>(batchSize, positions);
        device ??= CpuDevice.Instance;
        Tokens = HostTokens.ToDevice(device);
        Targets = HostTargets.ToDevice(device);
        Mask = HostMask.ToDevice(device);
    }

    TokenBatch(Tensor<int> tokens, Tensor<int> targets, Tensor<T> mask, Tensor<int> hostTokens, Tensor<int> hostTargets, Tensor<T> hostMask)
        => (Tokens, Targets, Mask, HostTokens, HostTargets, HostMask) = (tokens, targets, mask, hostTokens, hostTargets, hostMask);

    /// <summary>Rows [start, start + count) of this batch as a batch of their own: views of the same buffers, so filling this batch fills it.</summary>
    public TokenBatch<T> Rows(int start, int count)
    {
        var (tokens, targets, mask) = (Tokens.Narrow(0, start, count), Targets.Narrow(0, start, count), Mask.Narrow(0, start, count));
        return ReferenceEquals(Tokens, HostTokens)
            ? new(tokens, targets, mask, tokens, targets, mask)
            : new(tokens, targets, mask, HostTokens.Narrow(0, start, count), HostTargets.Narrow(0, start, count), HostMask.Narrow(0, start, count));
    }

    /// <summary>A new batch of <paramref name="count"/> sequences with this one's positions and device (zeros).</summary>
    public TokenBatch<T> WithRows(int count) => new(count, Positions, Device);

    /// <summary>Copies <paramref name="source"/>'s host buffers (same shape) into this batch's and uploads them; allocates nothing.</summary>
    public void CopyFrom(TokenBatch<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.BatchSize != BatchSize || source.Positions != Positions)
            throw new ShapeException("TokenBatch.CopyFrom", "batches differ in shape", source.Tokens.Shape, Tokens.Shape);
        source.HostTokens.AsSpan().CopyTo(HostTokens.AsSpan());
        source.HostTargets.AsSpan().CopyTo(HostTargets.AsSpan());
        source.HostMask.AsSpan().CopyTo(HostMask.AsSpan());
        Upload();
    }

    /// <summary>The sum of the host mask: how many predictions count in the (masked mean) loss.</summary>
    public double LossTerms()
    {
        double sum = 0;
        foreach (T m in HostMask.AsSpan()) sum += double.CreateChecked(m);
        return sum;
    }

    /// <summary>Token ids [batch, pos] on the batch's device (what a model reads).</summary>
    public Tensor<int> Tokens { get; }
    /// <summary>Next-token targets [batch, pos] on the batch's device.</summary>
    public Tensor<int> Targets { get; }
    /// <summary>Loss mask [batch, pos] on the batch's device.</summary>
    public Tensor<T> Mask { get; }
    /// <summary>The host copies that <see cref="SetRow"/> writes (the same tensors on the CPU).</summary>
    public Tensor<int> HostTokens { get; }
    public Tensor<int> HostTargets { get; }
    public Tensor<T> HostMask { get; }
    public Device Device => Tokens.Device;
    public int BatchSize => Tokens.Size(0);
    public int Positions => Tokens.Size(1);

    /// <summary>Writes sequence <paramref name="row"/> and its targets/mask from one sequence and the per-position mask.</summary>
    public void SetRow(int row, ReadOnlySpan<int> sequence, ReadOnlySpan<T> positionMask)
    {
        int n = Positions;
        var tokens = HostTokens.AsSpan().Slice(row * n, n);
        var targets = HostTargets.AsSpan().Slice(row * n, n);
        var mask = HostMask.AsSpan().Slice(row * n, n);
        sequence.CopyTo(tokens);
        for (int p = 0; p < n; p++)
        {
            targets[p] = p + 1 < n ? sequence[p + 1] : 0;
            mask[p] = p + 1 < n ? positionMask[p] : T.Zero;
        }
    }

    /// <summary>Blanks row <paramref name="row"/> (padding of a short last batch): it counts nowhere.</summary>
    public void ClearRow(int row)
    {
        int n = Positions;
        HostTokens.AsSpan().Slice(row * n, n).Clear();
        HostTargets.AsSpan().Slice(row * n, n).Clear();
        HostMask.AsSpan().Slice(row * n, n).Clear();
    }

    /// <summary>Copies the host batch to the device (nothing to do on the CPU).</summary>
    public void Upload()
    {
        if (ReferenceEquals(Tokens, HostTokens)) return;
        Tokens.Storage.CopyFromHost(Tokens.Offset, HostTokens.AsSpan());
        Targets.Storage.CopyFromHost(Targets.Offset, HostTargets.AsSpan());
        Mask.Storage.CopyFromHost(Mask.Offset, HostMask.AsSpan());
    }
}
