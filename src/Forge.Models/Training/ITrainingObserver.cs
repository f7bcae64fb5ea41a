namespace Forge.Models.Training;

/// <summary>What a trainer reports while it runs (progress bars, metric logs, checkpoint writers implement it).</summary>
public interface ITrainingObserver
{
    void OnStart(int firstStep, int totalSteps) { }
    /// <summary>After optimizer step <paramref name="step"/> (0-based): the rate used and the batch loss.</summary>
    void OnStep(int step, double learningRate, double loss) { }
    void OnEnd(int stepsDone) { }
}
