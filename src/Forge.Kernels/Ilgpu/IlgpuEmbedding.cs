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
/// outside the table is never touched.
/// </para>
/// <para>
/// ScatterAdd sorts the positions by id first, so each table element then sums only its own positions:
/// O(n·d) additions instead of every table element scanning every position (O(vocab·n·d) reads, the
/// kernel this replaced). The sort is a counting sort in three launches, deterministic without atomics and
/// stable: (1) one thread per (id, chunk of <see cref="ChunkPositions"/> positions) counts that id in that chunk;
/// (2) one group turns the counts, id-major, into exclusive offsets; (3) one thread per position places it
/// at its id's offset for its chunk plus the number of equal ids before it in the chunk. Then (4) one thread
/// per table element (row, column) adds dy of its row's positions in ascending position order to its old
/// value: the CPU reference's additions in the reference's order, so the result is bit-identical to it.
/// </para>
/// </summary>
public static class IlgpuEmbedding
{
    /// <summary>Positions per chunk of the counting sort: a placing thread scans at most this many ids.</summary>
    public const int ChunkPositions = 256;

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
        Views.CheckType<T>(backend, kernel);
        if (ids.Length == 0 || (long)vocab * d == 0) return;
        if (ids.Length > int.MaxValue || (long)vocab * d > int.MaxValue) throw new NotSupportedException($"{kernel}: {ids.Length} positions, {vocab}·{d} table elements.");
        int n = (int)ids.Length, chunks = (n + ChunkPositions - 1) / ChunkPositions;
        long cells = (long)vocab * chunks;
        if (cells >= int.MaxValue) throw new NotSupportedException($"{kernel}: {vocab} ids × {chunks} chunks of positions.");
        var counts = backend.Pool.Rent<int>(cells);        // positions per (id, chunk)
        var offsets = backend.Pool.Rent<int>(cells + 1);   // exclusive offsets (id-major, chunk-minor); the last entry: valid positions
        var order = backend.Pool.Rent<int>(n);             // positions sorted by id, stable
        var args = new EmbeddingArgs<T>
        {
            Ids = ids, Table = dTable, Rows = dy, Vocab = vocab, D = d, N = n,
            Chunks = chunks, Counts = counts.View, Offsets = offsets.View, Order = order.View,
        };
        var kernels = backend.Kernels<Kernels<T>>();
        kernels.CountIds(backend.Stream, (int)cells, args);
        kernels.ExclusiveOffsets(backend.Stream, new KernelConfig(1, backend.RowGroupSize), args);
        kernels.PlacePositions(backend.Stream, n, args);
        kernels.ScatterAddSorted(backend.Stream, vocab * d, args);
        backend.Pool.Return(order);     // later renters queue behind these kernels on the same stream
        backend.Pool.Return(offsets);
        backend.Pool.Return(counts);
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
        public required Action<AcceleratorStream, Index1D, EmbeddingArgs<T>> Gather, CountIds, PlacePositions, ScatterAddSorted;
        public required Action<AcceleratorStream, KernelConfig, EmbeddingArgs<T>> ExclusiveOffsets;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            Gather = Indexed(backend, nameof(EmbeddingKernels.Gather)),
            CountIds = Indexed(backend, nameof(EmbeddingKernels.CountIds)),
            PlacePositions = Indexed(backend, nameof(EmbeddingKernels.PlacePositions)),
            ScatterAddSorted = Indexed(backend, nameof(EmbeddingKernels.ScatterAddSorted)),
            ExclusiveOffsets = KernelMethods.Grouped<T, EmbeddingArgs<T>>(backend, typeof(EmbeddingKernels), nameof(EmbeddingKernels.ExclusiveOffsets)),
        };

        static Action<AcceleratorStream, Index1D, EmbeddingArgs<T>> Indexed(IlgpuBackend backend, string name) =>
            KernelMethods.Indexed<T, EmbeddingArgs<T>>(backend, typeof(EmbeddingKernels), name);
    }
}

/// <summary>Arguments of the embedding kernels: Table is table / dTable, Rows is y / dy.</summary>
internal struct EmbeddingArgs<T> where T : unmanaged
{
    public ArrayView1D<int, Stride1D.Dense> Ids, Counts, Offsets, Order;
    public ArrayView1D<T, Stride1D.Dense> Table, Rows;
    public int Vocab, D, N, Chunks;   // Chunks: of IlgpuEmbedding.ChunkPositions positions, for the counting sort
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

    /// <summary>Sort, step 1: thread (id, chunk) counts the positions of the chunk holding the id, into Counts[id·Chunks + chunk].</summary>
    internal static void CountIds<T>(Index1D cell, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int id = cell / s.Chunks, chunk = cell % s.Chunks;
        int first = chunk * IlgpuEmbedding.ChunkPositions, end = Math.Min(s.N, first + IlgpuEmbedding.ChunkPositions), count = 0;
        for (int position = first; position < end; position++)
            if (s.Ids[position] == id) count++;
        s.Counts[cell] = count;
    }

    /// <summary>
    /// Sort, step 2, one group: the counts become exclusive offsets (id-major, chunk-minor), and the entry after the
    /// last holds the number of valid positions. Each thread takes a contiguous block of cells; integer sums are
    /// exact, so the order of the additions does not matter. Counts and offsets are two buffers: done in place
    /// ("count = offsets[c]; offsets[c] = running; running += count"), ILGPU 1.5.3 emitted the load after the store
    /// in PTX and OpenCL alike, so every offset after the first occupied cell came out doubled (the CPU emulator runs
    /// the .NET code and never showed it; PoCL did, and the PTX shows it).
    /// </summary>
    internal static void ExclusiveOffsets<T>(EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var blockSums = SharedMemory.Allocate<int>(DeterministicGroup.MaxGroupSize);
        int cells = s.Vocab * s.Chunks, threads = Group.DimX, t = Group.IdxX;
        int block = (cells + threads - 1) / threads, first = Math.Min(cells, t * block), end = Math.Min(cells, first + block);
        int sum = 0;
        for (int c = first; c < end; c++) sum += s.Counts[c];
        blockSums[t] = sum;
        Group.Barrier();
        int running = 0;
        for (int j = 0; j < t; j++) running += blockSums[j];
        for (int c = first; c < end; c++)
        {
            s.Offsets[c] = running;
            running += s.Counts[c];
        }
        if (t == threads - 1) s.Offsets[cells] = running;
    }

    /// <summary>Sort, step 3: thread p writes p at its id's offset for its chunk plus the equal ids before it in the chunk (stable).</summary>
    internal static void PlacePositions<T>(Index1D position, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int id = s.Ids[position];
        if (id < 0 || id >= s.Vocab) return;
        int chunk = position / IlgpuEmbedding.ChunkPositions, rank = 0;
        for (int q = chunk * IlgpuEmbedding.ChunkPositions; q < position; q++)
            if (s.Ids[q] == id) rank++;
        s.Order[s.Offsets[id * s.Chunks + chunk] + rank] = position;
    }

    /// <summary>Step 4: thread (row, column) adds dy[p, column] of its row's positions, ascending, to dTable[row, column].</summary>
    internal static void ScatterAddSorted<T>(Index1D index, EmbeddingArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int row = index / s.D, column = index % s.D;
        int first = s.Offsets[row * s.Chunks], end = s.Offsets[(row + 1) * s.Chunks];   // the entry after the last row's is the total
        if (first == end) return;
        T sum = s.Table[index];
        for (int j = first; j < end; j++) sum += s.Rows[(long)s.Order[j] * s.D + column];
        s.Table[index] = sum;
    }
}
