namespace Forge.Kernels;

/// <summary>
/// When a kernel is worth spreading over <see cref="Threading.ForkJoin"/>, and in what pieces.
/// A fork–join handoff costs on the order of a microsecond, so only kernels touching more than
/// <see cref="Threshold"/> elements go parallel, and each block covers at least
/// <see cref="BlockElements"/> elements. Work is always split on boundaries that do not depend on the
/// thread count, so results are bitwise identical however many threads run.
/// </summary>
internal static class ParallelWork
{
    /// <summary>Kernels touching fewer elements than this run on the calling thread.</summary>
    public const long Threshold = 1 << 16;

    /// <summary>Smallest number of elements a parallel block should cover.</summary>
    public const long BlockElements = 1 << 14;

    /// <summary>Chunk length used to split long contiguous spans into independent work items.</summary>
    public const int ChunkLength = 1 << 13;

    /// <summary>
    /// The <c>minBlock</c> argument for <see cref="Threading.ForkJoin.For"/> over <paramref name="items"/>
    /// work items of about <paramref name="elementsPerItem"/> elements each: everything inline when the
    /// total is small, otherwise blocks of at least <see cref="BlockElements"/> elements.
    /// </summary>
    public static int MinBlock(long items, long elementsPerItem)
    {
        elementsPerItem = Math.Max(1, elementsPerItem);
        if (items * elementsPerItem < Threshold) return int.MaxValue;
        return (int)Math.Max(1, BlockElements / elementsPerItem);
    }

    /// <summary>Number of <see cref="ChunkLength"/>-long chunks covering <paramref name="length"/> elements.</summary>
    public static int ChunkCount(int length) => (int)(((long)length + ChunkLength - 1) / ChunkLength);
}
