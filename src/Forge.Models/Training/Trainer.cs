using System.Diagnostics;
using System.Numerics;
using Forge.Autograd;
using Forge.Autograd.Optim;

namespace Forge.Models.Training;

/// <summary>
/// The training loop. The first step records forward and backward on a tape; every later step
/// refills the same batch buffers, replays the tape and runs backward again — no allocation per step.
/// Each step: batch ← source(step); loss; gradients; optional clipping; lr ← schedule(step); update.
/// Hooks (<see cref="BeforeStep"/>, <see cref="AfterStep"/>) let callers evaluate, log and write checkpoints.
/// </summary>
public sealed class Trainer<T, TBatch> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Optimizer<T> _optimizer;
    readonly LearningRateSchedule _schedule;
    readonly IBatchSource<TBatch> _source;
    readonly TBatch _batch;
    readonly Func<TBatch, Var<T>> _loss;
    readonly Tape<T> _tape = new();
    Var<T>? _lossVar;

    /// <param name="loss">Builds the scalar loss of a batch from the model (called once, then replayed).</param>
    public Trainer(Optimizer<T> optimizer, LearningRateSchedule schedule, IBatchSource<TBatch> source, TBatch batch, Func<TBatch, Var<T>> loss)
        => (_optimizer, _schedule, _source, _batch, _loss) = (optimizer, schedule, source, batch, loss);

    /// <summary>Clip the global gradient norm to this value (0 = no clipping).</summary>
    public double ClipNorm { get; init; }

    public List<ITrainingObserver> Observers { get; } = [];

    /// <summary>Optimizer steps taken so far (also the next step's index).</summary>
    public int StepsDone { get; private set; }

    /// <summary>Seconds spent in training steps (batch, forward, backward, update) — observers' evaluation and checkpoint time excluded.</summary>
    public double TrainSeconds { get; private set; }

    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>Continue as if <paramref name="stepsDone"/> steps had already run (after loading a checkpoint).</summary>
    public void ResumeAt(int stepsDone, double trainSecondsSoFar = 0)
    {
        StepsDone = stepsDone;
        _optimizer.StepCount = stepsDone;
        TrainSeconds = trainSecondsSoFar;
    }

    /// <summary>Runs steps until <paramref name="totalSteps"/> have been done in all.</summary>
    public void Run(int totalSteps)
    {
        foreach (var o in Observers) o.OnStart(StepsDone, totalSteps);
        while (StepsDone < totalSteps)
        {
            int step = StepsDone;
            long started = Stopwatch.GetTimestamp();
            double loss = TrainStep(step, out double rate);
            TrainSeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
            StepsDone = step + 1;
            LastLoss = loss;
            foreach (var o in Observers) o.OnStep(step, rate, loss);
        }
        foreach (var o in Observers) o.OnEnd(StepsDone);
    }

    double TrainStep(int step, out double rate)
    {
        _source.Fill(step, _batch);
        if (_batch is IDeviceBatch deviceBatch) deviceBatch.Upload();
        if (_lossVar is null)
        {
            using (_tape.Record()) _lossVar = _loss(_batch);
        }
        else _tape.Replay();

        double loss = double.CreateChecked(_lossVar.Data.First());
        if (!double.IsFinite(loss)) throw new TrainingDivergedException(step, loss);
        _optimizer.ZeroGrad();
        _tape.Backward(_lossVar);
        if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(_optimizer.Parameters, ClipNorm);
        rate = _schedule.At(step);
        _optimizer.LearningRate = rate;
        _optimizer.Step();
        return loss;
    }
}
