using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// GELU, tanh approximation (GPT-2's gelu_new): y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Where the backend asks
/// for it (the CPU: <see cref="Backend{T}.GeluKeepsTanh"/>) and x needs a gradient, tanh(u) is kept from forward to
/// backward — one tensor of x's size, so the backward pass does not compute the tanh again.
/// </summary>
internal sealed class GeluOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Tensor<T>? _tanh;

    GeluOp(Var<T> x) : base("Gelu", x)
    {
        if (x.RequiresGrad && Backend.GeluKeepsTanh) _tanh = NewTensor(x.Shape);
    }

    public static Var<T> Apply(Var<T> x) => new GeluOp<T>(ContiguousOp<T>.Ensure(x)).Run(x.Shape);

    public override void Forward()
    {
        if (_tanh is null) Backend.GeluForward(Inputs[0].Data, Output.Data);
        else Backend.GeluForward(Inputs[0].Data, Output.Data, _tanh);
    }

    public override void Backward()
    {
        if (!NeedsGrad(0)) return;
        if (_tanh is null) Backend.GeluBackward(Inputs[0].Data, Output.Grad, Inputs[0].Grad, accumulate: !OverwritesGrad(0));
        else Backend.GeluBackward(Inputs[0].Data, _tanh, Output.Grad, Inputs[0].Grad, accumulate: !OverwritesGrad(0));
    }
}
