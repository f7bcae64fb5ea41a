namespace Forge.Experiments.Runs;

/// <summary>
/// Progress as plain lines, for logs and CI: a line every <see cref="Interval"/> of wall time or
/// whenever another 10% of the steps is done, whichever comes first, and a final "done" line.
/// <c>step 1200/7325  loss 0.1234  410 steps/s  ETA 0:12</c>
/// </summary>
public sealed class PlainProgress : ITrainingProgress
{
    readonly TextWriter _output;
    readonly TimeProvider _time;
    long _totalSteps, _firstStep, _lastStep, _nextTenthStep;
    long _startTimestamp, _lastLineTimestamp;
    double _lastLoss = double.NaN;
    bool _started;

    /// <summary>The longest wait between two lines.</summary>
    public TimeSpan Interval { get; }

    /// <param name="output">Where lines go.</param>
    /// <param name="interval">Longest wait between lines (default 10 s).</param>
    /// <param name="time">The clock (tests pass a fake one).</param>
    public PlainProgress(TextWriter output, TimeSpan? interval = null, TimeProvider? time = null)
    {
        _output = output;
        Interval = interval ?? TimeSpan.FromSeconds(10);
        _time = time ?? TimeProvider.System;
    }

    public void Start(long totalSteps, long firstStep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        _totalSteps = totalSteps;
        _firstStep = _lastStep = firstStep;
        _startTimestamp = _lastLineTimestamp = _time.GetTimestamp();
        _nextTenthStep = NextTenth(firstStep);
        _started = true;
    }

    public void Report(long step, double loss, params ReadOnlySpan<Metric> extras)
    {
        if (!_started) throw new InvalidOperationException("PlainProgress.Report before Start.");
        _lastStep = step;
        _lastLoss = loss;
        long now = _time.GetTimestamp();
        bool tenthDone = step >= _nextTenthStep;
        bool intervalPassed = _time.GetElapsedTime(_lastLineTimestamp, now) >= Interval;
        if (!tenthDone && !intervalPassed) return;
        _lastLineTimestamp = now;
        if (tenthDone) _nextTenthStep = NextTenth(step);
        _output.WriteLine(ProgressText.Line(step, _totalSteps, loss, StepsPerSecond(now), extras));
        _output.Flush();
    }

    public void Finish()
    {
        if (!_started) return;
        _started = false;
        long now = _time.GetTimestamp();
        _output.WriteLine(ProgressText.FinishLine(_lastStep - _firstStep, _time.GetElapsedTime(_startTimestamp, now), StepsPerSecond(now), _lastLoss));
        _output.Flush();
    }

    public void Dispose() => _started = false;

    double StepsPerSecond(long now)
    {
        double seconds = _time.GetElapsedTime(_startTimestamp, now).TotalSeconds;
        return seconds > 0 ? (_lastStep - _firstStep) / seconds : 0;
    }

    /// <summary>The first step strictly after <paramref name="step"/> that completes another tenth of the run.</summary>
    long NextTenth(long step)
    {
        if (_totalSteps <= 0) return long.MaxValue;
        long tenth = (step * 10 / _totalSteps) + 1;          // the next tenth to reach
        return (tenth * _totalSteps + 9) / 10;               // ceil(tenth · total / 10)
    }
}
