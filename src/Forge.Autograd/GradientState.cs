namespace Forge.Autograd;

/// <summary>
/// Whether an intermediate's gradient buffer has received anything yet in the current backward pass.
/// <para>
/// Instead of zeroing every intermediate gradient before backward (one full write of every activation's
/// size — a tenth of a small model's step on a memory-bound machine), <see cref="Tape{T}"/> marks them
/// <see cref="Fresh"/>: their contents are stale. The first op that contributes to a fresh gradient
/// either overwrites it (a GEMM with β = 0, a copy) or, if its kernel can only accumulate, zeroes it just
/// before (<see cref="Op{T}"/>'s <c>GradToAccumulate</c>). An op whose own output gradient is still fresh
/// when its turn comes received nothing, so its backward is skipped: it would add zeros. Vars whose
/// gradients are views of one buffer (a reshape's output and input) share one state.
/// </para>
/// </summary>
internal sealed class GradientState
{
    /// <summary>True while the buffer holds nothing of this backward pass (its contents are stale).</summary>
    public bool Fresh;
}
