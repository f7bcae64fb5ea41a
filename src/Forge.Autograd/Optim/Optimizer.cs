using System.Numerics;
using Forge.Kernels;

namespace Forge.Autograd.Optim;

/// <summary>
/// Base of the optimizers: a list of parameters, a learning rate that schedules may change between
/// steps, and a step counter. <see cref="Step"/> applies one fused in-place update per parameter,
/// with the kernels of the parameters' device; state buffers live there too.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Optimizer(IEnumerable<Var<T>> parameters, double learningRate)
    {
        Parameters = parameters.ToArray();
        foreach (var p in Parameters)
            if (!p.RequiresGrad || !p.Data.IsContiguous)
                throw new ArgumentException($"Optimizer: parameter {p} must be a contiguous leaf that requires grad");
        var device = Parameters.Count == 0 ? CpuDevice.Instance : Parameters[0].Data.Device;
        foreach (var p in Parameters)
            if (p.Data.Device != device)
                throw new ArgumentException($"Optimizer: parameters live on different devices ('{device.Name}' and '{p.Data.Device.Name}' for {p})");
        Backend = Backends.For<T>(device);
        LearningRate = learningRate;
    }

    public IReadOnlyList<Var<T>> Parameters { get; }
    /// <summary>The kernels of the parameters' device.</summary>
    protected Backend<T> Backend { get; }
    public double LearningRate { get; set; }
    /// <summary>Number of steps taken (Adam's bias correction uses it, 1-based inside the update).</summary>
    public int StepCount { get; set; }

    Tensor<T>[]? _values, _grads;

    /// <summary>The parameters' values, in order.</summary>
    protected ReadOnlySpan<Tensor<T>> Values => _values ??= Parameters.Select(p => p.Data).ToArray();

    /// <summary>The parameters' gradients, in order (allocated here if a backward pass has not yet).</summary>
    protected ReadOnlySpan<Tensor<T>> Grads => _grads ??= Parameters.Select(p => p.Grad).ToArray();

    /// <summary>Zeroes every parameter's gradient (one <see cref="Backend{T}.FillMany"/>: on a GPU, a launch per 8 tensors).</summary>
    public void ZeroGrad() => Backend.FillMany(Grads, T.Zero);

    public void Step()
    {
        StepCount++;
        UpdateAll();
    }

    /// <summary>The update of every parameter; by default <see cref="Update"/> one after the other.</summary>
    protected virtual void UpdateAll()
    {
        for (int i = 0; i < Parameters.Count; i++) Update(i, Parameters[i].Data, Parameters[i].Grad);
    }

    /// <summary>Updates parameter <paramref name="index"/> in place from its gradient.</summary>
    protected abstract void Update(int index, Tensor<T> parameter, Tensor<T> gradient);

    /// <summary>Per-parameter state buffers (momenta), flat, on the parameters' device, by name, for checkpoints.</summary>
    public abstract IEnumerable<(string Name, Tensor<T> Buffer)> State();

    protected Tensor<T>[] NewState() => Parameters.Select(p => new Tensor<T>([p.Data.Length], p.Data.Device)).ToArray();
}
