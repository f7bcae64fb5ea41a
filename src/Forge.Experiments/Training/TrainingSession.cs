using System.Globalization;
using Forge.Autograd.Optim;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Training;

/// <summary>
/// Runs a <see cref="Trainer{T, TBatch}"/> inside a run folder: resumes from the latest checkpoint
/// when the folder is resumed, shows progress, appends metrics.csv rows (train loss every
/// <see cref="LogEvery"/> steps, evaluation columns every <see cref="EvalEvery"/> steps), writes a
/// checkpoint (weights + optimizer state) at every grid step, and writes summary.json at the end.
/// A NaN loss stops the run with the step named; checkpoints already written stay.
/// </summary>
public sealed class TrainingSession<TBatch> : ITrainingObserver
{
    public required RunFolder Folder { get; init; }
    public required Transformer<float> Model { get; init; }
    public required Optimizer<float> Optimizer { get; init; }
    public required Trainer<float, TBatch> Trainer { get; init; }
    public required ulong Seed { get; init; }
    public required int TotalSteps { get; init; }
    public required SortedSet<int> CheckpointSteps { get; init; }
    public int LogEvery { get; init; } = 50;
    public int EvalEvery { get; init; } = 500;
    /// <summary>Names of the evaluation columns of metrics.csv, in order.</summary>
    public IReadOnlyList<string> EvalColumns { get; init; } = [];
    /// <summary>Computes the evaluation columns (same order as <see cref="EvalColumns"/>) for the current weights.</summary>
    public Func<double[]>? Evaluate { get; init; }

    /// <summary>Checkpoint metadata: seconds of training so far, so a resumed run's summary counts all of them.</summary>
    const string TrainSecondsKey = "train_seconds";

    MetricsLog? _metrics;
    ITrainingProgress _progress = NullProgress.Instance;
    double[] _lastEval = [];
    double[] _noEval = [];

    /// <summary>The latest evaluation values, by column.</summary>
    public IReadOnlyDictionary<string, double> LastEvaluation => EvalColumns.Zip(_lastEval).ToDictionary(p => p.First, p => p.Second);

    public void Run(TextWriter output)
    {
        int start = Folder.IsResumed ? RestoreLatest(output) : 0;
        if (start >= TotalSteps && Folder.IsFinished)
        {
            output.WriteLine($"training already finished at step {start}; summary.json is kept");
            return;
        }
        _noEval = Enumerable.Repeat(double.NaN, EvalColumns.Count).ToArray();
        _lastEval = _noEval;
        using (_metrics = Folder.OpenMetrics(EvalColumns, Folder.IsResumed ? start : -1))
        using (_progress = ProgressReporter.For(output))
        {
            Trainer.Observers.Add(this);
            try { Trainer.Run(TotalSteps); }
            finally { Trainer.Observers.Remove(this); }
        }
        var extras = new Dictionary<string, object?>(EvalColumns.Zip(_lastEval).Select(p => new KeyValuePair<string, object?>(p.First, p.Second)));
        Folder.WriteSummary(new RunSummary(TotalSteps, Trainer.TrainSeconds, Trainer.LastLoss) { Extras = extras });
    }

    int RestoreLatest(TextWriter output)
    {
        long? latest = Folder.LatestCheckpointStep();
        if (latest is null) return 0;
        var (file, _) = ModelCheckpoint.Read(Folder.CheckpointPath(latest.Value));
        var loaded = ModelCheckpoint.LoadModel<float>(file, Model.Config);
        for (int i = 0; i < Model.Parameters.Count; i++) loaded.Parameters.All[i].Data.AsSpan().CopyTo(Model.Parameters.All[i].Data.AsSpan());
        ModelCheckpoint.LoadOptimizer(file, Optimizer);
        double seconds = file.Metadata.TryGetValue(TrainSecondsKey, out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : 0;
        Trainer.ResumeAt((int)latest.Value, seconds);
        output.WriteLine($"resuming from {Folder.RelativePath(Folder.CheckpointPath(latest.Value))} (step {latest.Value})");
        return (int)latest.Value;
    }

    void ITrainingObserver.OnStart(int firstStep, int totalSteps) => _progress.Start(totalSteps, firstStep);

    void ITrainingObserver.OnStep(int step, double learningRate, double loss)
    {
        int done = step + 1;
        bool evaluate = Evaluate is not null && (done % EvalEvery == 0 || done == TotalSteps);
        if (evaluate) _lastEval = Evaluate!();
        if (evaluate || done % LogEvery == 0 || done == 1 || done == TotalSteps)
            _metrics!.Append(done, learningRate, loss, evaluate ? _lastEval : _noEval);
        if (CheckpointSteps.Contains(done))
            ModelCheckpoint.Save(Folder.CheckpointPath(done), Model, done, Seed, Optimizer,
                new Dictionary<string, string> { [TrainSecondsKey] = Trainer.TrainSeconds.ToString("R", CultureInfo.InvariantCulture) });
        _progress.Report(done, loss);
    }

    void ITrainingObserver.OnEnd(int stepsDone) => _progress.Finish();
}
