using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Training;

namespace Forge.Experiments.Benchmarks;

/// <summary>
/// One recorded training step, as the experiments' <see cref="Trainer{T, TBatch}"/> runs it: forward
/// (replayed), the loss read back (the trainer checks it is finite), backward into freshly zeroed
/// gradients, optional global-norm clipping, optimizer update. With micro-batches
/// (<see cref="MicroBatchGradient{T}"/>) each part's backward follows its forward, the parts run in parallel.
/// </summary>
public sealed class TrainingStep(MicroBatchGradient<float> gradient, Optimizer<float> optimizer, long parameterCount)
{
    /// <summary>Clip the global gradient norm to this before the update (0: no clipping), as the trainer does.</summary>
    public double ClipNorm { get; init; }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount { get; } = parameterCount;

    /// <summary>Number of micro-batches the batch is cut into.</summary>
    public int MicroBatches => gradient.Count;

    /// <summary>The loss of the last forward pass.</summary>
    public float Loss => (float)gradient.Loss();

    /// <summary>
    /// Where one step's time goes, per op and direction (<see cref="TapeProfile"/>), largest first; on an
    /// ILGPU device every op is waited for, so its row is its own kernel time. With micro-batches the parts
    /// are profiled one after the other on the calling thread, each loaded into a lane and replayed there (their kernels may then use every thread), and
    /// each row sums over the parts; the reduction of their gradients is not in the table.
    /// </summary>
    public IReadOnlyList<TapeProfile.Row> Profile(int steps, bool byOp = false)
    {
        var device = optimizer.Parameters[0].Data.Device as Forge.Kernels.Devices.IlgpuDevice;
        var rows = new List<TapeProfile.Row>();
        for (int c = 0; c < gradient.Count; c++)
        {
            var (tape, loss) = gradient.LoadPart(c);
            rows.AddRange(TapeProfile.Measure(tape, loss, c < gradient.Count - 1 ? null : () =>
                {
                    if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(optimizer.Parameters, ClipNorm);
                    optimizer.Step();
                    optimizer.ZeroGrad();
                }, steps,
                synchronize: device is null ? null : device.Synchronize, byOp: byOp));
        }
        return rows.GroupBy(r => (r.Op, r.Direction))
            .Select(g => new TapeProfile.Row(g.Key.Op, g.Key.Direction, g.Sum(r => r.CallsPerStep), g.Sum(r => r.MillisecondsPerStep)))
            .OrderByDescending(r => r.MillisecondsPerStep)
            .ToList();
    }

    /// <summary>The trainable parameters.</summary>
    public IReadOnlyList<Var<float>> Parameters => optimizer.Parameters;

    /// <summary>One step; allocates nothing after the first. On an ILGPU device it waits for the queued kernels, so a timed step is a finished one.</summary>
    public void Run()
    {
        if (!gradient.TryLossAndGradient(out _)) throw new InvalidOperationException("the training step's loss is not finite");
        Clip();
        Update();
        (optimizer.Parameters[0].Data.Device as Forge.Kernels.Devices.IlgpuDevice)?.Synchronize();
    }

    // The phases of Run, for tests that check what each costs a device (launches, host waits).

    /// <summary>The forward pass (replayed; recorded the first time).</summary>
    public void Forward() => gradient.Forward();

    /// <summary>Backward from the loss into freshly zeroed parameter gradients.</summary>
    public void Backward() => gradient.Backward();

    /// <summary>Clips the global gradient norm to <see cref="ClipNorm"/> (nothing when it is 0).</summary>
    public void Clip()
    {
        if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(optimizer.Parameters, ClipNorm);
    }

    /// <summary>The optimizer's update.</summary>
    public void Update() => optimizer.Step();
}
