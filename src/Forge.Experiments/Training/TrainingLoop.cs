using System.Diagnostics;
using System.Globalization;
using Forge.Experiments.Cli;
using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Training;

namespace Forge.Experiments.Training;

/// <summary>
/// The training loop of every experiment, in one place and readable top to bottom (nanoGPT's
/// <c>train.py</c> loop): restore when resuming, then per step — one optimizer step, evaluate every
/// <c>eval_every</c> steps, log a metrics.csv row, write the checkpoint of grid steps, show progress —
/// and summary.json at the end. The paper's part is <see cref="ExperimentRun.Step"/> and
/// <see cref="ExperimentRun.Evaluate"/>; nothing here knows which paper runs.
/// </summary>
public static class TrainingLoop
{
    /// <summary>A metrics.csv row of the training loss every this many steps (and at evaluations, step 1 and the last step).</summary>
    public const int LogEvery = 50;

    /// <summary>Checkpoint metadata: seconds of training so far, so a resumed run's summary counts all of them.</summary>
    const string TrainSecondsKey = "train_seconds";

    /// <summary>
    /// Trains <paramref name="run"/> inside <paramref name="folder"/> to <see cref="ExperimentRun.Steps"/>
    /// steps; returns the last evaluation (in <see cref="ExperimentRun.EvalColumns"/> order). A NaN or
    /// infinite loss stops the run with a <see cref="UsageException"/> naming the step; the checkpoints
    /// written before it stay.
    /// </summary>
    public static IReadOnlyList<double> Run(ExperimentRun run, RunFolder folder, TextWriter output)
    {
        var checkpoints = CheckpointGrid.Parse(run.Recipe.Checkpoints, run.Steps);
        int evalEvery = run.Recipe.EvalEvery;
        var (start, trainSeconds) = folder.IsResumed ? Restore(run, folder, output) : (0, 0.0);
        if (start >= run.Steps && folder.IsFinished)
        {
            output.WriteLine($"training already finished at step {start}; summary.json is kept");
            return run.Evaluate();
        }

        var notEvaluated = Enumerable.Repeat(double.NaN, run.EvalColumns.Count).ToArray();
        double[] evaluation = notEvaluated;
        double loss = double.NaN;
        using (var metrics = folder.OpenMetrics(run.EvalColumns, folder.IsResumed ? start : -1))
        using (var progress = ProgressReporter.For(output))
        {
            progress.Start(run.Steps, start);
            for (int step = start; step < run.Steps; step++)
            {
                long started = Stopwatch.GetTimestamp();
                loss = TakeStep(run, step, folder);
                trainSeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;

                int done = step + 1;   // metrics.csv, checkpoints and progress count finished steps
                bool evaluate = done % evalEvery == 0 || done == run.Steps;
                if (evaluate) evaluation = run.Evaluate();
                if (evaluate || done % LogEvery == 0 || done == 1 || done == run.Steps)
                    metrics.Append(done, run.LearningRate, loss, evaluate ? evaluation : notEvaluated);
                if (checkpoints.Contains(done)) SaveCheckpoint(run, folder, done, trainSeconds);
                progress.Report(done, loss);
            }
            progress.Finish();
        }
        folder.WriteSummary(new RunSummary(run.Steps, trainSeconds, loss) { Extras = run.SummaryExtras(evaluation) });
        return evaluation;
    }

    static double TakeStep(ExperimentRun run, int step, RunFolder folder)
    {
        try { return run.Step(step); }
        catch (TrainingDivergedException e)
        {
            long? lastGood = folder.LatestCheckpointStep();
            throw new UsageException($"training diverged: the loss is {e.Loss.ToString(CultureInfo.InvariantCulture)} at step {step + 1}; " +
                                     (lastGood is long s ? $"the last good checkpoint is step {s}" : "no checkpoint was written before it"), e);
        }
    }

    /// <summary>
    /// Writes the checkpoint of step <paramref name="step"/> — only of finite weights: an update that
    /// broke the weights (a huge learning rate) stops the run instead, so a checkpoint never holds NaN.
    /// </summary>
    static void SaveCheckpoint(ExperimentRun run, RunFolder folder, int step, double trainSeconds)
    {
        if (run.Model.Parameters.FirstNonFinite() is { } broken)
        {
            long? lastGood = folder.LatestCheckpointStep();
            throw new UsageException($"training diverged: the update of step {step} made {broken} non-finite; " +
                                     (lastGood is long s ? $"the last good checkpoint is step {s}" : "no checkpoint was written before it"));
        }
        ModelCheckpoint.Save(folder.CheckpointPath(step), run.Model, step, run.Seed, run.Optimizer,
            new Dictionary<string, string> { [TrainSecondsKey] = trainSeconds.ToString("R", CultureInfo.InvariantCulture) });
    }

    /// <summary>
    /// Loads the newest readable checkpoint's weights and optimizer state; returns its step and the
    /// training seconds it records. An unreadable checkpoint (truncated, corrupt, foreign) is passed
    /// over for the one before it, and the user is told; when none can be read the resume is refused
    /// (a failed load may have overwritten part of the weights, so starting afresh here would not be
    /// the run's own start).
    /// </summary>
    static (int Step, double TrainSeconds) Restore(ExperimentRun run, RunFolder folder, TextWriter output)
    {
        foreach (long step in folder.CheckpointSteps().Reverse())
        {
            string path = folder.CheckpointPath(step);
            try
            {
                var (file, config) = ModelCheckpoint.Read(path);
                ModelCheckpoint.LoadInto(file, config, run.Model);
                ModelCheckpoint.LoadOptimizer(file, run.Optimizer);
                if (run.Model.Parameters.FirstNonFinite() is { } broken) throw new CheckpointException(path, $"holds non-finite values in {broken}");
                double seconds = file.Metadata.TryGetValue(TrainSecondsKey, out var s) && double.TryParse(s, CultureInfo.InvariantCulture, out double t) ? t : 0;
                output.WriteLine($"resuming from {folder.RelativePath(path)} (step {step})");
                return ((int)step, seconds);
            }
            catch (CheckpointException e)
            {
                output.WriteLine($"note: {folder.RelativePath(path)} cannot be resumed from ({CliApp.OneLine(e.Message)}); trying the checkpoint before it");
            }
        }
        if (folder.CheckpointSteps().Count > 0)
            throw new UsageException($"no checkpoint in '{folder.CheckpointsFolder}' can be resumed from; start the run again in another folder");
        return (0, 0);
    }
}
