using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Training;

namespace Forge.Experiments.Benchmarks;

/// <summary>
/// One recorded training step, as the experiments' <see cref="Trainer{T, TBatch}"/> runs it: replayed forward,
/// the loss read back (the trainer checks it is finite), zeroed gradients, backward, optional global-norm
/// clipping, optimizer update.
/// </summary>
public sealed class TrainingStep(Tape<float> tape, Var<float> loss, Optimizer<float> optimizer, long parameterCount)
{
    /// <summary>Clip the global gradient norm to this before the update (0: no clipping), as the trainer does.</summary>
    public double ClipNorm { get; init; }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount { get; } = parameterCount;

    /// <summary>The loss of the last forward pass.</summary>
    public float Loss => loss.Item();

    /// <summary>
    /// Where one step's time goes, per op and direction (<see cref="TapeProfile"/>), largest first; on an
    /// ILGPU device every op is waited for, so its row is its own kernel time.
    /// </summary>
    public IReadOnlyList<TapeProfile.Row> Profile(int steps, bool byOp = false)
    {
        var device = loss.Data.Device as Forge.Kernels.Devices.IlgpuDevice;
        return TapeProfile.Measure(tape, loss, () =>
            {
                if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(optimizer.Parameters, ClipNorm);
                optimizer.Step();
                optimizer.ZeroGrad();
            }, steps,
            synchronize: device is null ? null : device.Synchronize, byOp: byOp);
    }

    /// <summary>The trainable parameters.</summary>
    public IReadOnlyList<Var<float>> Parameters => optimizer.Parameters;

    /// <summary>One step; allocates nothing. On an ILGPU device it waits for the queued kernels, so a timed step is a finished one.</summary>
    public void Run()
    {
        Forward();
        if (!float.IsFinite(Loss)) throw new InvalidOperationException("the training step's loss is not finite");
        Backward();
        Clip();
        Update();
        (loss.Data.Device as Forge.Kernels.Devices.IlgpuDevice)?.Synchronize();
    }

    // The phases of Run, for tests that check what each costs a device (launches, host waits).

    /// <summary>Replays the recorded forward pass.</summary>
    public void Forward() => tape.Replay();

    /// <summary>Zeroes the parameter gradients and runs backward from the loss.</summary>
    public void Backward()
    {
        optimizer.ZeroGrad();
        tape.Backward(loss);
    }

    /// <summary>Clips the global gradient norm to <see cref="ClipNorm"/> (nothing when it is 0).</summary>
    public void Clip()
    {
        if (ClipNorm > 0) GradientClipping.ClipGlobalNorm(optimizer.Parameters, ClipNorm);
    }

    /// <summary>The optimizer's update.</summary>
    public void Update() => optimizer.Step();
}
