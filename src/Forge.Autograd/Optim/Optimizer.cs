using System.Numerics;

namespace Forge.Autograd.Optim;

/// <summary>
/// Base of the optimizers: a list of parameters, a learning rate that schedules may change between
/// steps, and a step counter. <see cref="Step"/> applies one fused in-place update per parameter.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Optimizer(IEnumerable<Var<T>> parameters, double learningRate)
    {
        Parameters = parameters.ToArray();
        foreach (var p in Parameters)
            if (!p.RequiresGrad || !p.Data.IsContiguous)
                throw new ArgumentException($"Optimizer: parameter {p} must be a contiguous leaf that requires grad");
        LearningRate = learningRate;
    }

    public IReadOnlyList<Var<T>> Parameters { get; }
    public double LearningRate { get; set; }
    /// <summary>Number of steps taken (Adam's bias correction uses it, 1-based inside the update).</summary>
    public int StepCount { get; set; }

    public void ZeroGrad()
    {
        // An index loop: foreach over the IReadOnlyList interface would box an enumerator every step.
        for (int i = 0; i < Parameters.Count; i++) Parameters[i].ZeroGrad();
    }

    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++) Update(i, Parameters[i].Data.AsSpan(), Parameters[i].Grad.AsSpan());
    }

    /// <summary>Updates parameter <paramref name="index"/> in place from its gradient.</summary>
    protected abstract void Update(int index, Span<T> parameter, ReadOnlySpan<T> gradient);

    /// <summary>Per-parameter state buffers (momenta), by name, for checkpoints.</summary>
    public abstract IEnumerable<(string Name, T[] Buffer)> State();

    protected T[][] NewState() => Parameters.Select(p => new T[p.Data.Length]).ToArray();
}
