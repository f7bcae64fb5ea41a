using System.Numerics;
using Forge.Kernels;

namespace Forge.Autograd;

/// <summary>
/// One recorded operation: it knows its inputs and output and how to recompute the output
/// (<see cref="Forward"/>) and push the output's gradient back to its inputs (<see cref="Backward"/>).
/// Ops allocate every buffer they need when they are built, so replaying a recorded tape
/// (forward then backward) allocates nothing. An op runs where its inputs live: its output, scratch
/// buffers and kernels (<see cref="Backend"/>) belong to the inputs' device.
/// </summary>
public abstract class Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    protected Op(string name, params Var<T>[] inputs)
    {
        Name = name;
        Inputs = inputs;
        Device = inputs.Length == 0 ? CpuDevice.Instance : inputs[0].Data.Device;
        foreach (var input in inputs)
            if (input.Data.Device != Device)
                throw new InvalidOperationException($"{name}: inputs live on different devices ('{Device.Name}' and '{input.Data.Device.Name}'); move them to one device first");
        Backend = Backends.For<T>(Device);
    }

    public string Name { get; }
    /// <summary>The device of the inputs, where the output and every buffer of the op are allocated.</summary>
    public Device Device { get; }
    /// <summary>The kernels of <see cref="Device"/>.</summary>
    protected Backend<T> Backend { get; }
    public Var<T>[] Inputs { get; }
    public Var<T> Output { get; private set; } = null!;

    /// <summary>Recomputes <see cref="Output"/>'s data from the inputs' current data.</summary>
    public abstract void Forward();

    /// <summary>
    /// Adds this op's contribution to the gradients of the inputs that require grad, from <c>Output.Grad</c>:
    /// through <see cref="GradToAccumulate"/>, or overwriting where <see cref="GradBeta"/>/<see cref="OverwritesGrad"/> say it is the first.
    /// </summary>
    public abstract void Backward();

    /// <summary>
    /// True when input <paramref name="index"/>'s gradient is this op's output gradient unchanged (an addend of a sum):
    /// a sealed tape (<see cref="Tape{T}.Seal"/>) then lets an input used by this op alone share the output's gradient
    /// buffer, and the op's backward must leave such an input alone (<see cref="SharesOutputGrad"/>).
    /// </summary>
    protected internal virtual bool PassesGradientThrough(int index) => false;

    /// <summary>True when input <paramref name="index"/>'s gradient is this op's output gradient buffer itself (passed through, nothing to add).</summary>
    protected bool SharesOutputGrad(int index) => ReferenceEquals(Inputs[index].Grad, Output.Grad);

    /// <summary>True when input <paramref name="index"/> needs a gradient.</summary>
    protected bool NeedsGrad(int index) => Inputs[index].RequiresGrad;

    /// <summary>
    /// Input <paramref name="index"/>'s gradient, ready for a kernel that adds (+=) into it: an intermediate's
    /// gradient that has received nothing yet in this backward pass is zeroed first (<see cref="GradientState"/>).
    /// </summary>
    protected Tensor<T> GradToAccumulate(int index)
    {
        var input = Inputs[index];
        var grad = input.Grad;
        if (input.TakeFresh()) Backend.Fill(grad, T.Zero);
        return grad;
    }

    /// <summary>
    /// For a kernel that writes grad = β·grad + contribution: β = 0 when this is the first contribution to an
    /// intermediate's gradient in this backward pass (its stale contents are overwritten, never read), else 1.
    /// </summary>
    protected T GradBeta(int index) => OverwritesGrad(index) ? T.Zero : T.One;

    /// <summary>True when this op is the first writer of input <paramref name="index"/>'s gradient in this pass: it must overwrite, not add.</summary>
    protected bool OverwritesGrad(int index) => Inputs[index].TakeFresh();

    /// <summary>Runs the op with a new output of <paramref name="shape"/> on the op's device.</summary>
    protected internal Var<T> Run(int[] shape) => Run(new Tensor<T>(shape, Device));

    /// <summary>A zero-filled contiguous tensor on the op's device (outputs and scratch buffers).</summary>
    protected Tensor<T> NewTensor(int[] shape) => new(shape, Device);

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
