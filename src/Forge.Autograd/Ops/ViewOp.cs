using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// A view (reshape, permute, transpose, narrow, select, unsqueeze, squeeze): the output shares the
/// input's storage, so forward has nothing to recompute. Backward applies the same view to the
/// input's gradient buffer, which gives exactly the positions the output's elements came from, and
/// adds the output gradient there (y[strided] += dOut). Views without repeated elements only —
/// broadcasting (expand) sums instead, see <see cref="ExpandOp{T}"/>.
/// </summary>
internal sealed class ViewOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Func<Tensor<T>, Tensor<T>> _view;
    Tensor<T>? _gradView;
    bool _sharesGrad;

    ViewOp(string name, Var<T> x, Func<Tensor<T>, Tensor<T>> view) : base(name, x) => _view = view;

    public static Var<T> Apply(string name, Var<T> x, Func<Tensor<T>, Tensor<T>> view)
    {
        var op = new ViewOp<T>(name, x, view);
        return op.Run(view(x.Data));
    }

    /// <summary>
    /// Reshape is a view of contiguous data; a strided input is made contiguous first. Since gradients
    /// are contiguous too, the output's gradient can simply be the input's gradient reshaped — then
    /// backward has nothing to do. Only for intermediate inputs: a parameter's gradient accumulates
    /// across backward passes, while every intermediate gradient is zeroed at the start of one.
    /// </summary>
    public static Var<T> Reshape(Var<T> x, int[] shape)
    {
        x = ContiguousOp<T>.Ensure(x);
        var output = Apply("Reshape", x, data => data.Reshape(shape));
        if (output.RequiresGrad && !x.IsLeaf && x.RequiresGrad)
        {
            output.ShareGrad(x.Grad.Reshape(output.Shape), x.GradState);
            ((ViewOp<T>)output.Creator!)._sharesGrad = true;
        }
        return output;
    }

    public override void Forward() { } // shares storage with the input

    public override void Backward()
    {
        if (!NeedsGrad(0) || _sharesGrad) return;
        _gradView ??= _view(Inputs[0].Grad);
        GradToAccumulate(0);   // a view may cover only part of the input (narrow, select): the rest must be 0
        Backend.AddStrided(_gradView.ShapeSpan, Output.Grad, _gradView, _gradView.StridesSpan);
    }
}

/// <summary>
/// Broadcasts axes of size 1 (and new leading axes) to a larger shape without copying (stride 0).
/// Each input element feeds many outputs, so its gradient is the sum of theirs.
/// </summary>
internal sealed class ExpandOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    ExpandOp(Var<T> x) : base("Expand", x) { }

    public static Var<T> Apply(Var<T> x, int[] shape) => new ExpandOp<T>(x).Run(x.Data.Expand(shape));

    public override void Forward() { }

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.ReduceBroadcast(Output.ShapeSpan, Output.Grad, Inputs[0].ShapeSpan, GradToAccumulate(0));
    }
}
