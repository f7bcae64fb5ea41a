namespace Forge.Models.Training;

/// <summary>The loss became NaN or infinite. The parameters are left as they were before the bad step.</summary>
public sealed class TrainingDivergedException(int step, double loss)
    : Exception($"training diverged: the loss is {loss} at step {step}; the last good checkpoint is kept, nothing of this step was applied")
{
    /// <summary>The 0-based index of the step whose loss was not finite.</summary>
    public int Step { get; } = step;

    /// <summary>The loss it gave.</summary>
    public double Loss { get; } = loss;
}
