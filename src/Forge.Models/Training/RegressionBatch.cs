using System.Numerics;

namespace Forge.Models.Training;

/// <summary>One batch for a continuous model: inputs [batch, pos, d_in] and targets [batch, pos, d_out], refilled in place each step.</summary>
public sealed class RegressionBatch<T>(int batchSize, int positions, int dIn, int dOut) where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Inputs { get; } = Tensor.Zeros<T>(batchSize, positions, dIn);
    public Tensor<T> Targets { get; } = Tensor.Zeros<T>(batchSize, positions, dOut);
    public int BatchSize => Inputs.Size(0);
    public int Positions => Inputs.Size(1);
}
