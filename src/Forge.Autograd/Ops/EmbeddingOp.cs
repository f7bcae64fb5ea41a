using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// Row lookup: y[..., :] = table[ids[...], :]. The ids tensor is read on every replay, so a training
/// loop refills it in place. Backward scatters: dTable[ids[i], :] += dy[i, :] (a row used twice
/// collects both gradients).
/// </summary>
internal sealed class EmbeddingOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly Tensor<int> _ids;
    readonly int _vocab, _d;

    EmbeddingOp(Var<T> table, Tensor<int> ids) : base("Embedding", table) => (_ids, _vocab, _d) = (ids, table.Size(0), table.Size(1));

    public static Var<T> Apply(Var<T> table, Tensor<int> ids)
    {
        if (table.Rank != 2) throw new ShapeException("Embedding", "table must be [vocab, d]", table.Shape);
        if (ids.Device != table.Data.Device)
            throw new InvalidOperationException($"Embedding: ids live on '{ids.Device.Name}' but the table on '{table.Data.Device.Name}'");
        if (!ids.IsContiguous) ids = ids.Contiguous();
        return new EmbeddingOp<T>(ContiguousOp<T>.Ensure(table), ids).Run([.. ids.Shape, table.Size(1)]);
    }

    public override void Forward() => Backend.EmbeddingGather(_ids, Inputs[0].Data, Output.Data, _vocab, _d);

    public override void Backward()
    {
        if (NeedsGrad(0)) Backend.EmbeddingScatterAdd(_ids, Output.Grad, GradToAccumulate(0), _vocab, _d);
    }
}
