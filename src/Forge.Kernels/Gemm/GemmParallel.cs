using System.Numerics;
using System.Runtime.CompilerServices;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Multithreading for <see cref="Gemm"/>: C is cut into a grid of sub-matrices and each is computed
/// whole (all of k) by <see cref="GemmBlocked"/> on whichever thread claims it, with that thread's
/// own packing buffers.
/// <para>
/// Why whole sub-GEMMs rather than sharing one packed B panel and splitting rows per k block: the
/// threads then share only the read-only inputs. A shared freshly packed panel, or C tiles that move
/// between cores from one k block to the next, cost more in cross-core cache traffic than the compute
/// they spread (measured: 128³ was slower on two threads than on one). The price is that each row
/// block packs its own copy of its B columns and each column block re-reads its A rows;
/// <see cref="ChooseGrid"/> picks the grid that keeps that traffic smallest.
/// </para>
/// Results are bit-identical for any thread count: a sub-matrix's elements are computed exactly as in
/// a single call (same k blocks, same order), so the grid only decides who computes what.
/// </summary>
static unsafe class GemmParallel
{
    /// <summary>Smallest task worth a thread: ~4 µs of FMAs, well above the ~1 µs fork-join cost.</summary>
    public const long MinFmasPerTask = 1 << 20;

    /// <summary>Tasks per thread: enough that uneven tasks (edges, a busy core) still balance.</summary>
    const int TasksPerThread = 4;

    struct Grid<T> where T : unmanaged
    {
        public bool TransA, TransB;
        public int M, N, K, RowsPerTask, ColumnsPerTask, ColumnTasks;
        public T Alpha, Beta;
        public T* A, B, C, Bias;
        public nint Lda, Ldb, Ldc;
    }

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C for alpha ≠ 0, k ≥ 1, split over <see cref="ForkJoin.Threads"/>
    /// (plus a bias row, when not null, as <see cref="GemmBlocked.Run{T}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, T* bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int threads = ForkJoin.Threads;
        long tasks = Math.Min((long)m * n * k / MinFmasPerTask, (long)TasksPerThread * threads);
        // A small product gets a few tasks: a multiple of the threads, so that no thread is left with one more
        // than the others (5 tasks on 2 threads keep one thread idle for a fifth of the time; 4 do not).
        if (tasks > threads) tasks -= tasks % threads;
        if (threads == 1 || tasks < 2)
        {
            GemmBlocked.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
            return;
        }

        int mr = GemmMicrokernel.Rows;
        int nr = GemmMicrokernel.Columns<T>();
        int rowSlivers = (m + mr - 1) / mr, columnSlivers = (n + nr - 1) / nr;
        var (rowBlocks, columnBlocks) = ChooseGrid(m, n, rowSlivers, columnSlivers, (int)tasks);
        if (rowBlocks * columnBlocks < 2)
        {
            GemmBlocked.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
            return;
        }
        var grid = new Grid<T>
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, B = b, C = c, Bias = bias, Lda = lda, Ldb = ldb, Ldc = ldc,
            RowsPerTask = (rowSlivers + rowBlocks - 1) / rowBlocks * mr,
            ColumnsPerTask = (columnSlivers + columnBlocks - 1) / columnBlocks * nr,
        };
        int rowTasks = (m + grid.RowsPerTask - 1) / grid.RowsPerTask;
        grid.ColumnTasks = (n + grid.ColumnsPerTask - 1) / grid.ColumnsPerTask;
        ForkJoin.For(rowTasks * grid.ColumnTasks, &grid, &Tasks<T>);
    }

    /// <summary>
    /// Picks how many row blocks × column blocks to cut C into for about <paramref name="tasks"/> tasks.
    /// Every column block reads all of its rows of A and every row block all of its columns of B (to
    /// pack them), so the grid with the least of that traffic wins: tall problems (m ≫ n) split rows,
    /// wide ones columns, square ones both.
    /// </summary>
    static (int RowBlocks, int ColumnBlocks) ChooseGrid(int m, int n, int rowSlivers, int columnSlivers, int tasks)
    {
        (int, int) best = (1, 1);
        long leastTraffic = long.MaxValue;
        for (int columnBlocks = 1; columnBlocks <= Math.Min(columnSlivers, tasks); columnBlocks++)
        {
            int rowBlocks = Math.Min(rowSlivers, (tasks + columnBlocks - 1) / columnBlocks);
            long traffic = (long)columnBlocks * m + (long)rowBlocks * n; // elements read per unit of k
            if (traffic < leastTraffic)
            {
                leastTraffic = traffic;
                best = (rowBlocks, columnBlocks);
            }
        }
        return best;
    }

    /// <summary>ForkJoin body: tasks [begin, end) of the grid, row-major, each a whole sub-GEMM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tasks<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = (Grid<T>*)state;
        for (int task = begin; task < end; task++)
        {
            int row = task / g->ColumnTasks * g->RowsPerTask, column = task % g->ColumnTasks * g->ColumnsPerTask;
            T* a = g->TransA ? g->A + row : g->A + row * g->Lda;            // op(A)[row, 0]
            T* b = g->TransB ? g->B + column * g->Ldb : g->B + column;     // op(B)[0, column]
            GemmBlocked.Run(g->TransA, g->TransB, Math.Min(g->RowsPerTask, g->M - row), Math.Min(g->ColumnsPerTask, g->N - column),
                g->K, g->Alpha, a, g->Lda, b, g->Ldb, g->Beta, g->C + row * g->Ldc + column, g->Ldc,
                g->Bias == null ? null : g->Bias + column);
        }
    }
}
