using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>GELU, tanh approximation (GPT-2's gelu_new): y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
internal sealed class GeluOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    GeluOp(Var<T> x) : base("Gelu", x) { }

    public static Var<T> Apply(Var<T> x) => new GeluOp<T>(ContiguousOp<T>.Ensure(x)).Run(x.Shape);

    public override void Forward() => Backend.GeluForward(Inputs[0].Data, Output.Data);

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.GeluBackward(Inputs[0].Data, Output.Grad, Inputs[0].Grad, accumulate: !OverwritesGrad(0));
    }
}
