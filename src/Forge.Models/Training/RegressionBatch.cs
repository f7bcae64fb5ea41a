using System.Numerics;

namespace Forge.Models.Training;

/// <summary>
/// One batch for a continuous model: inputs [batch, pos, d_in] and targets [batch, pos, d_out], refilled
/// in place each step. Sources write <see cref="HostInputs"/>/<see cref="HostTargets"/>; on a device other
/// than the CPU, <see cref="Upload"/> copies them into <see cref="Inputs"/>/<see cref="Targets"/>, which
/// the model reads (on the CPU they are the same tensors).
/// </summary>
public sealed class RegressionBatch<T> : IDeviceBatch, ISplittableBatch<RegressionBatch<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    public RegressionBatch(int batchSize, int positions, int dIn, int dOut, Device? device = null)
    {
        HostInputs = Tensor.Zeros<T>(batchSize, positions, dIn);
        HostTargets = Tensor.Zeros<T>(batchSize, positions, dOut);
        Inputs = HostInputs.ToDevice(device ?? CpuDevice.Instance);
        Targets = HostTargets.ToDevice(device ?? CpuDevice.Instance);
    }

    RegressionBatch(Tensor<T> inputs, Tensor<T> targets, Tensor<T> hostInputs, Tensor<T> hostTargets)
        => (Inputs, Targets, HostInputs, HostTargets) = (inputs, targets, hostInputs, hostTargets);

    /// <summary>Rows [start, start + count) of this batch as a batch of their own: views of the same buffers, so filling this batch fills it.</summary>
    public RegressionBatch<T> Rows(int start, int count)
    {
        var (inputs, targets) = (Inputs.Narrow(0, start, count), Targets.Narrow(0, start, count));
        return ReferenceEquals(Inputs, HostInputs)
            ? new(inputs, targets, inputs, targets)
            : new(inputs, targets, HostInputs.Narrow(0, start, count), HostTargets.Narrow(0, start, count));
    }

    /// <summary>A new batch of <paramref name="count"/> sequences with this one's positions, widths and device (zeros).</summary>
    public RegressionBatch<T> WithRows(int count) => new(count, Positions, Inputs.Size(2), Targets.Size(2), Inputs.Device);

    /// <summary>Copies <paramref name="source"/>'s host buffers (same shape) into this batch's and uploads them; allocates nothing.</summary>
    public void CopyFrom(RegressionBatch<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!Forge.Shape.SameShape(source.Inputs.ShapeSpan, Inputs.ShapeSpan) || !Forge.Shape.SameShape(source.Targets.ShapeSpan, Targets.ShapeSpan))
            throw new ShapeException("RegressionBatch.CopyFrom", "batches differ in shape", source.Inputs.Shape, Inputs.Shape);
        source.HostInputs.AsSpan().CopyTo(HostInputs.AsSpan());
        source.HostTargets.AsSpan().CopyTo(HostTargets.AsSpan());
        Upload();
    }

    public Tensor<T> Inputs { get; }
    public Tensor<T> Targets { get; }
    public Tensor<T> HostInputs { get; }
    public Tensor<T> HostTargets { get; }
    public int BatchSize => Inputs.Size(0);

    /// <summary>The rows: a mean over rows (MSE) weighs each row alike.</summary>
    public double LossTerms() => BatchSize;
    public int Positions => Inputs.Size(1);

    /// <summary>Copies the host batch to the device (nothing to do on the CPU).</summary>
    public void Upload()
    {
        if (ReferenceEquals(Inputs, HostInputs)) return;
        Inputs.Storage.CopyFromHost(Inputs.Offset, HostInputs.AsSpan());
        Targets.Storage.CopyFromHost(Targets.Offset, HostTargets.AsSpan());
    }
}
