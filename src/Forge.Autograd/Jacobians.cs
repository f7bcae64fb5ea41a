using System.Numerics;

namespace Forge.Autograd;

/// <summary>
/// Many vector–Jacobian products of one function in a single backward pass — how block Jacobians
/// are built. The trick needs no new machinery: a model's batch entries are independent, so
/// replicating one sample m times along the batch axis and seeding entry i's output gradient with
/// seedᵢ makes entry i's input gradient equal seedᵢᵀ·J. One forward and one backward over a batch of
/// m give all m products at GEMM speed.
/// </summary>
public static class Jacobians
{
    /// <summary>
    /// For <paramref name="f"/> mapping [batch, …] → [batch, …] with independent batch entries and one
    /// sample <paramref name="x"/> [1, …], returns [m, …in] whose row i is seedᵢᵀ·∂f(x)/∂x, where
    /// <paramref name="seeds"/> is [m, …out].
    /// </summary>
    public static Tensor<T> BatchedVjp<T>(Func<Var<T>, Var<T>> f, Tensor<T> x, Tensor<T> seeds) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank < 1 || x.Size(0) != 1) throw new ShapeException("BatchedVjp", "x must be one sample with a leading batch axis of 1", x.Shape);
        int m = seeds.Size(0);
        int[] batchShape = [m, .. x.Shape[1..]];
        var input = Var<T>.Parameter(x.Expand(batchShape).Contiguous().Clone(), "x");
        var tape = new Tape<T>();
        Var<T> output;
        using (tape.Record()) output = f(input);
        if (!Forge.Shape.SameShape(output.ShapeSpan, seeds.ShapeSpan))
            throw new ShapeException("BatchedVjp", "seeds must be [m, …] matching f's output on the replicated batch", output.Shape, seeds.Shape);
        tape.Backward(output, seeds);
        return input.Grad;
    }

    /// <summary>
    /// The full Jacobian of <paramref name="f"/> at one sample <paramref name="x"/> [1, …in]:
    /// shape […out, …in] (batch axes dropped), from one batched pass with identity seeds.
    /// </summary>
    public static Tensor<T> Jacobian<T>(Func<Var<T>, Var<T>> f, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] outShape;
        using (GradMode.NoGrad()) outShape = f(Var<T>.Constant(x)).Shape[1..];
        int outCount = Forge.Shape.Count(outShape);
        var seeds = new Tensor<T>([outCount, .. outShape]);
        var seedSpan = seeds.AsSpan();
        for (int i = 0; i < outCount; i++) seedSpan[i * outCount + i] = T.One;
        var rows = BatchedVjp(f, x, seeds);
        return rows.Reshape([.. outShape, .. x.Shape[1..]]);
    }
}
