using Spectre.Console;
using Spectre.Console.Rendering;

namespace Forge.Experiments.Runs;

/// <summary>
/// A live Spectre.Console progress bar for interactive terminals: bar, steps, steps/s, ETA and the
/// current loss (plus extras). Spectre's display runs on its own thread and redraws ~10 times a
/// second; <see cref="Report"/> only stores the latest numbers, so the training loop pays almost
/// nothing. Nothing else should write to the console while the bar is shown.
/// </summary>
public sealed class LiveProgress : ITrainingProgress
{
    readonly IAnsiConsole _console;
    readonly object _gate = new();
    Thread? _display;
    volatile bool _stopRequested;
    long _totalSteps, _firstStep, _step;
    double _loss = double.NaN;
    Metric[] _extras = new Metric[4];
    int _extraCount;
    DateTime _startTime;
    string? _displayFailure;

    /// <summary>Why the live display stopped early (null while it works); training goes on regardless.</summary>
    public string? DisplayFailure => _displayFailure;

    public LiveProgress(IAnsiConsole? console = null) => _console = console ?? AnsiConsole.Console;

    public void Start(long totalSteps, long firstStep = 0)
    {
        _totalSteps = totalSteps;
        _firstStep = _step = firstStep;
        _startTime = DateTime.UtcNow;
        _stopRequested = false;
        _display = new Thread(RunDisplay) { IsBackground = true, Name = "Forge progress" };
        _display.Start();
    }

    public void Report(long step, double loss, params ReadOnlySpan<Metric> extras)
    {
        lock (_gate)
        {
            _step = step;
            _loss = loss;
            if (_extras.Length < extras.Length) _extras = new Metric[extras.Length];
            extras.CopyTo(_extras);
            _extraCount = extras.Length;
        }
    }

    public void Finish()
    {
        if (!Stop()) return;
        var elapsed = DateTime.UtcNow - _startTime;
        double seconds = elapsed.TotalSeconds;
        double rate = seconds > 0 ? (_step - _firstStep) / seconds : 0;
        _console.WriteLine(ProgressText.FinishLine(_step - _firstStep, elapsed, rate, _loss));
    }

    public void Dispose() => Stop();

    /// <summary>Stops the display thread; false when it was not running.</summary>
    bool Stop()
    {
        if (_display is null) return false;
        _stopRequested = true;
        _display.Join();
        _display = null;
        return true;
    }

    void RunDisplay()
    {
        // An exception on this thread would end the process; a broken display must not end training.
        try { ShowBar(); }
        catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException)
        {
            _displayFailure = e.Message;
        }
    }

    void ShowBar()
    {
        _console.Progress()
            .AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new StepsColumn(), new RateColumn(),
                     new EtaColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .Start(context =>
            {
                var task = context.AddTask("starting", maxValue: Math.Max(1, _totalSteps));
                task.Value = _firstStep;
                while (!_stopRequested)
                {
                    Update(task);
                    context.Refresh();
                    Thread.Sleep(100);
                }
                Update(task);
                context.Refresh();
            });
    }

    void Update(ProgressTask task)
    {
        lock (_gate)
        {
            task.Value = _step;
            var description = $"loss {ProgressText.Number(_loss)}";
            for (int i = 0; i < _extraCount; i++)
                description += $"  {_extras[i].Name} {ProgressText.Number(_extras[i].Value)}";
            task.Description = Markup.Escape(description);
        }
    }

    sealed class StepsColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{(long)task.Value}/{(long)task.MaxValue}");
    }

    sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? ProgressText.Rate(speed) : "? steps/s", new Style(Color.Grey));
    }

    sealed class EtaColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text("ETA " + (task.RemainingTime is { } left ? ProgressText.Duration(left) : "?"), new Style(Color.Grey));
    }
}
