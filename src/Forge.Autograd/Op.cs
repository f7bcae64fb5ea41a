using System.Numerics;

namespace Forge.Autograd;

/// <summary>
/// One recorded operation: it knows its inputs and output and how to recompute the output
/// (<see cref="Forward"/>) and push the output's gradient back to its inputs (<see cref="Backward"/>).
/// Ops allocate every buffer they need when they are built, so replaying a recorded tape
/// (forward then backward) allocates nothing.
/// </summary>
public abstract class Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Op(string name, params Var<T>[] inputs)
    {
        Name = name;
        Inputs = inputs;
    }

    public string Name { get; }
    public Var<T>[] Inputs { get; }
    public Var<T> Output { get; private set; } = null!;

    /// <summary>Recomputes <see cref="Output"/>'s data from the inputs' current data.</summary>
    public abstract void Forward();

    /// <summary>Accumulates (+=) into the gradients of the inputs that require grad, from <c>Output.Grad</c>.</summary>
    public abstract void Backward();

    /// <summary>True when input <paramref name="index"/> needs a gradient.</summary>
    protected bool NeedsGrad(int index) => Inputs[index].RequiresGrad;

    /// <summary>
    /// Wires the output, computes it once and records the op on the active tape, if any.
    /// Every op factory ends with this.
    /// </summary>
    protected internal Var<T> Run(Tensor<T> outputData)
    {
        bool recording = !GradMode.IsDisabled;
        bool requiresGrad = recording && Array.Exists(Inputs, input => input.RequiresGrad);
        Output = new Var<T>(outputData, requiresGrad) { Creator = this };
        Forward();
        // Every op runs again on replay, so the tape records all of them, not only those on a
        // gradient path (an op on a refilled constant input must be recomputed too).
        if (recording) Tape<T>.Active?.Record(this);
        return Output;
    }
}
