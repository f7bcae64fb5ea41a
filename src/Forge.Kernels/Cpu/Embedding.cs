using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Embedding lookup (row gather) and its gradient (row scatter-add). Reference versions:
/// <see cref="EmbeddingReference"/>. Ids are validated before anything is written.
/// <para>
/// Gather runs rows in parallel. ScatterAdd cannot (two positions may share an id), so it splits
/// the embedding columns into blocks instead: each column is accumulated by one thread in position
/// order, the same order as the reference.
/// </para>
/// </summary>
public static unsafe class Embedding
{
    /// <summary>Columns per work item of <see cref="ScatterAdd{T}"/>.</summary>
    const int ColumnBlock = 128;

    /// <summary>y[i, :] = table[ids[i], :]. ids is (n), table is (vocab, d), y is (n, d).</summary>
    /// <exception cref="ArgumentException">An id is outside [0, vocab); the message names the position and value.</exception>
    public static void Gather<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> table, Span<T> y, int vocab, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Embedding.Gather";
        CheckArguments(kernel, ids, table.Length, nameof(table), vocab, d);
        Check.AtLeast(kernel, nameof(y), y.Length, (long)ids.Length * d, "ids.Length·d");
        if ((long)ids.Length * d == 0) return;
        fixed (int* pIds = ids)
        fixed (T* pTable = table, py = y)
        {
            var state = new State<T> { Ids = pIds, Table = pTable, Rows = py, N = ids.Length, D = d };
            ForkJoin.For(ids.Length, &state, &GatherRows<T>, ParallelWork.MinBlock(ids.Length, d));
        }
    }

    /// <summary>
    /// dTable[ids[i], :] += dy[i, :] for every position i (repeated ids accumulate). ids is (n),
    /// dy is (n, d), dTable is (vocab, d).
    /// </summary>
    /// <exception cref="ArgumentException">An id is outside [0, vocab); the message names the position and value.</exception>
    public static void ScatterAdd<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> dy, Span<T> dTable, int vocab, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Embedding.ScatterAdd";
        CheckArguments(kernel, ids, dTable.Length, nameof(dTable), vocab, d);
        Check.AtLeast(kernel, nameof(dy), dy.Length, (long)ids.Length * d, "ids.Length·d");
        if ((long)ids.Length * d == 0) return;
        fixed (int* pIds = ids)
        fixed (T* pTable = dTable, pdy = dy)
        {
            var state = new State<T> { Ids = pIds, Table = pTable, Rows = pdy, N = ids.Length, D = d };
            int blocks = (d + ColumnBlock - 1) / ColumnBlock;
            ForkJoin.For(blocks, &state, &ScatterColumns<T>, ParallelWork.MinBlock(blocks, (long)ids.Length * ColumnBlock));
        }
    }

    static void CheckArguments(string kernel, ReadOnlySpan<int> ids, int tableLength, string tableName, int vocab, int d)
    {
        Check.NonNegative(kernel, nameof(vocab), vocab);
        Check.NonNegative(kernel, nameof(d), d);
        Check.AtLeast(kernel, tableName, tableLength, (long)vocab * d, "vocab·d");
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocab) ThrowId(kernel, i, ids[i], vocab);
    }

    [DoesNotReturn]
    static void ThrowId(string kernel, int position, int id, int vocab) =>
        throw new ArgumentException($"{kernel}: ids[{position}] = {id} is outside [0, vocab = {vocab}).", "ids");

    /// <summary>Rows is y for Gather and dy for ScatterAdd; Table is table / dTable.</summary>
    struct State<T> where T : unmanaged
    {
        public int* Ids;
        public T* Table, Rows;
        public int N, D;
    }

    static void GatherRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int d = s->D;
        for (int i = begin; i < end; i++)
            new ReadOnlySpan<T>(s->Table + (long)s->Ids[i] * d, d).CopyTo(new Span<T>(s->Rows + (long)i * d, d));
    }

    static void ScatterColumns<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (State<T>*)statePointer;
        int d = s->D;
        int first = begin * ColumnBlock, columns = Math.Min(end * ColumnBlock, d) - first;
        for (int i = 0; i < s->N; i++)
        {
            var tableRow = new Span<T>(s->Table + (long)s->Ids[i] * d + first, columns);
            TensorPrimitives.Add(tableRow, new ReadOnlySpan<T>(s->Rows + (long)i * d + first, columns), tableRow);
        }
    }
}
