using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Embedding gather and its gradient on an ILGPU device, with the contract of <see cref="Embedding"/>:
/// ids is (n), table / dTable is (vocab, d), y / dy is (n, d).
/// <para>
/// Ids are not validated on the host (that would need a copy back): an id outside [0, vocab) makes
/// its row of y NaN in <see cref="Gather{T}"/> and is skipped by <see cref="ScatterAdd{T}"/>; memory
/// outside the table is never touched. ScatterAdd is deterministic without atomics: one thread per
/// embedding column walks the positions in order (the CPU kernel's order), so repeated ids
/// accumulate exactly as in the reference. d threads leave a GPU mostly idle, so for small
/// vocabularies (≤ <see cref="MaxVocabPerRow"/>) there is one thread per (row, column) of the table
/// instead, each walking all positions and adding those with its id: vocab·d threads, vocab times
/// the reads, the same additions in the same order (bit-identical). When vocab·d threads are still
/// too few for the device, the positions are cut into ranges (<see cref="Views.SplitLoop"/>) whose
/// sums are added in order: deterministic, rounded differently from the reference. A sort-by-id
/// version would be the next step for large vocabularies.
/// </para>
/// </summary>
public static class IlgpuEmbedding
{
    /// <summary>Largest vocabulary for the thread-per-table-element scatter-add (each thread reads every id).</summary>
    public const int MaxVocabPerRow = 4096;

    /// <summary>y[i, :] = table[ids[i], :].</summary>
    public static void Gather<T>(IlgpuBackend backend, ArrayView1D<int, Stride1D.Dense> ids, ArrayView1D<T, Stride1D.Dense> table,
        ArrayView1D<T, Stride1D.Dense> y, int vocab, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuEmbedding.Gather";
        CheckArguments(kernel, table, nameof(table), vocab, d);
        Check.AtLeast(kernel, nameof(y), Views.Length(y), ids.Length * d, "ids.Length·d");
        LaunchGather(backend, kernel, ids.Length * d, new EmbeddingArgs<T> { Ids = ids, Table = table, Rows = y, Vocab = vocab, D = d });
    }

    /// <summary>dTable[ids[i], :] += dy[i, :] for every position i (repeated ids accumulate, in position order).</summary>
    public static void ScatterAdd<T>(IlgpuBackend backend, ArrayView1D<int, Stride1D.Dense> ids, ArrayView1D<T, Stride1D.Dense> dy,
        ArrayView1D<T, Stride1D.Dense> dTable, int vocab, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "IlgpuEmbedding.ScatterAdd";
        CheckArguments(kernel, dTable, nameof(dTable), vocab, d);
        Check.AtLeast(kernel, nameof(dy), Views.Length(dy), ids.Length * d, "ids.Length·d");
        var args = new EmbeddingArgs<T> { Ids = ids, Table = dTable, Rows = dy, Vocab = vocab, D = d, N = (int)ids.Length };
        Views.CheckType<T>(backend, kernel);
        if (ids.Length == 0 || (long)vocab * d == 0) return;
        var kernels = backend.Kernels<Kernels<T>>();
        if (vocab > MaxVocabPerRow)
        {
            kernels.ScatterAdd(backend.Stream, d, args);
            return;
        }
        // Still few threads for many positions (vocab·d = 5,000 threads walking 10,000 positions):
        // cut the positions into ranges, sum each range per table element, add the ranges in order.
        var (splits, chunk) = Views.SplitLoop((long)vocab * d, args.N, Views.ParallelThreads(backend), minChunk: 32);
        if (splits == 1)
        {
            kernels.ScatterAddElement(backend.Stream, checked(vocab * d), args);
            return;
        }
        var partials = backend.Pool.Rent<T>((long)vocab * d * splits);
        args.Partials = partials.View;
        args.Splits = splits;
        args.Chunk = chunk;
        kernels.ScatterAddPartial(backend.Stream, checked(vocab * d * splits), args);
        kernels.ScatterAddSplits(backend.Stream, checked(vocab * d), args);
        backend.Pool.Return(partials);   // later renters queue behind these kernels on the same stream
    }

    static void CheckArguments<T>(string kernel, ArrayView1D<T, Stride1D.Dense> table, string tableName, int vocab, int d) where T : unmanaged
    {
        Check.NonNegative(kernel, nameof(vocab), vocab);
        Check.NonNegative(kernel, nameof(d), d);
        Check.AtLeast(kernel, tableName, Views.Length(table), (long)vocab * d, "vocab·d");
    }

    static void LaunchGather<T>(IlgpuBackend backend, string kernel, long threads, EmbeddingArgs<T> args)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Views.CheckType<T>(backend, kernel);
        if (threads == 0) return;
        if (threads > int.MaxValue) throw new NotSupportedException($"{kernel}: {threads} threads in one launch.");
        backend.Kernels<Kernels<T>>().Gather(backend.Stream, (int)threads, args);
    }

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, Index1D, EmbeddingArgs<T>> Gather, ScatterAdd, ScatterAddElement, ScatterAddPartial, ScatterAddSplits;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Gather = Indexed(backend, nameof(EmbeddingKernels.Gather)),
            ScatterAdd = Indexed(backend, nameof(EmbeddingKernels.ScatterAddColumn)),
            ScatterAddElement = Indexed(backend, nameof(EmbeddingKernels.ScatterAddElement)),
            ScatterAddPartial = Indexed(backend, nameof(EmbeddingKernels.ScatterAddPartial)),
            ScatterAddSplits = Indexed(backend, nameof(EmbeddingKernels.ScatterAddSplits)),
        };

        static Action<AcceleratorStream, Index1D, EmbeddingArgs<T>> Indexed(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, EmbeddingArgs<T>>(backend, typeof(EmbeddingKernels), name);
    }
}

/// <summary>Arguments of the embedding kernels: Table is table / dTable, Rows is y / dy.</summary>
internal struct EmbeddingArgs<T> where T : unmanaged
{
    public ArrayView1D<int, Stride1D.Dense> Ids;
    public ArrayView1D<T, Stride1D.Dense> Table, Rows, Partials;
    public int Vocab, D, N, Splits, Chunk;   // Splits, Chunk: position ranges of the split scatter-add
}

/// <summary>Device code of <see cref="IlgpuEmbedding"/>.</summary>
internal static class EmbeddingKernels
{
    /// <summary>One thread per element of y.</summary>
    internal static void Gather<T>(Index1D index, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int position = index / s.D, column = index % s.D, id = s.Ids[position];
        s.Rows[index] = id >= 0 && id < s.Vocab ? s.Table[(long)id * s.D + column] : T.NaN;
    }

    /// <summary>One thread per column: walks the positions in order, adding dy into the id's row.</summary>
    internal static void ScatterAddColumn<T>(Index1D column, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int position = 0; position < s.N; position++)
        {
            int id = s.Ids[position];
            if (id < 0 || id >= s.Vocab) continue;
            s.Table[(long)id * s.D + column] += s.Rows[(long)position * s.D + column];
        }
    }

    /// <summary>One thread per table element (row, column): adds dy[i, column] for every position i whose id is row, in position order.</summary>
    internal static void ScatterAddElement<T>(Index1D index, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int row = index / s.D, column = index % s.D;
        long at = (long)row * s.D + column;
        T sum = s.Table[at];
        for (int position = 0; position < s.N; position++)
            if (s.Ids[position] == row) sum += s.Rows[(long)position * s.D + column];
        s.Table[at] = sum;
    }

    /// <summary>Split version, first pass: thread (split, element) sums the dy of positions [split·Chunk, (split + 1)·Chunk) with its id.</summary>
    internal static void ScatterAddPartial<T>(Index1D index, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int elements = s.Vocab * s.D, element = index % elements, split = index / elements;
        int row = element / s.D, column = element % s.D;
        int first = split * s.Chunk, end = s.N - first < s.Chunk ? s.N : first + s.Chunk;
        T sum = T.Zero;
        for (int position = first; position < end; position++)
            if (s.Ids[position] == row) sum += s.Rows[(long)position * s.D + column];
        s.Partials[index] = sum;
    }

    /// <summary>Split version, second pass: dTable[element] += its range sums, in range order.</summary>
    internal static void ScatterAddSplits<T>(Index1D element, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long elements = (long)s.Vocab * s.D;
        T sum = T.Zero;
        for (int split = 0; split < s.Splits; split++) sum += s.Partials[split * elements + element];
        s.Table[element] += sum;
    }
}
