namespace Forge.Models.Training;

/// <summary>The loss became NaN or infinite. The parameters are left as they were before the bad step.</summary>
public sealed class TrainingDivergedException(int step, double loss)
    : Exception($"training diverged: the loss is {loss} at step {step}; the last good checkpoint is kept, nothing of this step was applied")
{
    public int Step { get; } = step;
}
