using System.Numerics;

namespace Forge.Models.Training;

/// <summary>
/// One batch of token sequences with next-token targets: <c>Targets[b, p]</c> is the token the
/// prediction at position p should give (tokens[b, p+1]); <c>Mask[b, p]</c> is 1 where that prediction
/// counts in the loss (the last position, and padding rows, are 0). Buffers are refilled in place
/// every step, so a recorded training step can be replayed on them.
/// </summary>
public sealed class TokenBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public TokenBatch(int batchSize, int positions)
    {
        Tokens = Tensor.Zeros<int>(batchSize, positions);
        Targets = Tensor.Zeros<int>(batchSize, positions);
        Mask = Tensor.Zeros<T>(batchSize, positions);
    }

    public Tensor<int> Tokens { get; }
    public Tensor<int> Targets { get; }
    public Tensor<T> Mask { get; }
    public int BatchSize => Tokens.Size(0);
    public int Positions => Tokens.Size(1);

    /// <summary>Writes sequence <paramref name="row"/> and its targets/mask from one sequence and the per-position mask.</summary>
    public void SetRow(int row, ReadOnlySpan<int> sequence, ReadOnlySpan<T> positionMask)
    {
        int n = Positions;
        var tokens = Tokens.AsSpan().Slice(row * n, n);
        var targets = Targets.AsSpan().Slice(row * n, n);
        var mask = Mask.AsSpan().Slice(row * n, n);
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
        Tokens.AsSpan().Slice(row * n, n).Clear();
        Targets.AsSpan().Slice(row * n, n).Clear();
        Mask.AsSpan().Slice(row * n, n).Clear();
    }
}
