namespace Forge.Experiments.Runs;

/// <summary>A named number shown next to the loss in progress output (e.g. <c>val_acc</c>).</summary>
public readonly record struct Metric(string Name, double Value);

/// <summary>
/// What a training loop tells the user about its progress. The loop calls <see cref="Start"/> once,
/// <see cref="Report"/> after every step (it must be cheap: implementations decide how often to
/// show something), and <see cref="Finish"/> at the end; <see cref="IDisposable.Dispose"/> stops the
/// display without a final line when the loop fails.
/// </summary>
public interface ITrainingProgress : IDisposable
{
    /// <summary>Training begins; <paramref name="firstStep"/> is the step already done (non-zero when resuming).</summary>
    void Start(long totalSteps, long firstStep = 0);

    /// <summary><paramref name="step"/> steps are done (1-based); the latest training loss and any extra metrics.</summary>
    void Report(long step, double loss, params ReadOnlySpan<Metric> extras);

    /// <summary>Training ended: show the final line (steps, time, throughput, last loss).</summary>
    void Finish();
}

/// <summary>Shows nothing (tests, analyses run inside another command).</summary>
public sealed class NullProgress : ITrainingProgress
{
    public static readonly NullProgress Instance = new();
    public void Start(long totalSteps, long firstStep = 0) { }
    public void Report(long step, double loss, params ReadOnlySpan<Metric> extras) { }
    public void Finish() { }
    public void Dispose() { }
}
