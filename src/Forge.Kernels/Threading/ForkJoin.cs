using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Forge.Kernels.Threading;

/// <summary>
/// A tiny fork–join pool for kernels: <c>For(count, state, body)</c> splits the index range
/// [0, count) into blocks that the calling thread and <see cref="Threads"/>−1 persistent workers
/// claim one by one.
/// <para>
/// Why not <c>Parallel.For</c>: at toy model sizes a kernel runs for microseconds, so the per-call
/// cost of scheduling tasks and allocating closures would dominate. Here a call allocates nothing
/// (state travels as a pointer, the body is a static function pointer), and idle workers spin for a
/// short while before sleeping, so back-to-back kernels start without a wake-up delay.
/// </para>
/// Results never depend on which thread ran a block: bodies must write disjoint outputs per index.
/// Nested calls (a body that calls <c>For</c>) and calls from a second thread while the pool is busy
/// run inline on the caller, so the pool can never deadlock.
/// </summary>
public static unsafe class ForkJoin
{
    /// <summary>How long an idle worker spins before it sleeps (iterations of <see cref="Thread.SpinWait"/>).</summary>
    const int SpinIterations = 20_000;

    static readonly object s_gate = new();
    static int s_threads = Environment.ProcessorCount;
    static Worker[] s_workers = [];

    // The job being run. Written by the caller before it bumps s_generation.
    static void* s_state;
    static delegate*<void*, int, int, void> s_body;
    static int s_count, s_blockSize, s_blockCount;
    static int s_nextBlock, s_finishedWorkers, s_generation;
    // (generation << 32) | ClosedBit? | number of workers that joined this job. Workers join with a
    // compare-and-swap that fails once the caller has closed the job, so the caller waits only for
    // workers that are actually running blocks — never for one the OS has not scheduled yet.
    static long s_join;
    const long ClosedBit = 1L << 31;
    static ExceptionDispatchInfo? s_failure;

    [ThreadStatic] static bool t_insideBody;

    /// <summary>Threads used by kernels, the caller included (≥ 1). Defaults to the core count.</summary>
    public static int Threads
    {
        get => s_threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "ForkJoin.Threads must be at least 1.");
            lock (s_gate)
            {
                foreach (var worker in s_workers) worker.Stop();
                s_workers = [];
                s_threads = value;
            }
        }
    }

    /// <summary>
    /// The threads a <see cref="For(int, void*, delegate*{void*, int, int, void}, int, int)"/> called from this thread can use:
    /// <see cref="Threads"/>, or 1 inside the body of a <c>For</c>, where nested calls run inline.
    /// </summary>
    public static int ThreadsHere => t_insideBody ? 1 : s_threads;

    /// <summary>
    /// <see cref="For(int, void*, delegate*{void*, int, int, void}, int, int)"/> with an object as the state (a model, a job):
    /// a GC handle carries it to the threads, so the call allocates nothing.
    /// </summary>
    public static void For<TState>(int count, TState state, delegate*<TState, int, int, void> body, int minBlock = 1, int maxBlock = int.MaxValue) where TState : class
    {
        var handle = GCHandle.Alloc(state);
        try
        {
            var call = new ObjectCall<TState> { Handle = GCHandle.ToIntPtr(handle), Body = body };
            For(count, &call, &ObjectBody<TState>, minBlock, maxBlock);
        }
        finally { handle.Free(); }
    }

    struct ObjectCall<TState> where TState : class
    {
        public IntPtr Handle;
        public delegate*<TState, int, int, void> Body;
    }

    static void ObjectBody<TState>(void* call, int begin, int end) where TState : class
    {
        var c = (ObjectCall<TState>*)call;
        c->Body((TState)GCHandle.FromIntPtr(c->Handle).Target!, begin, end);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(state, begin, end) over [0, count) in blocks of at least
    /// <paramref name="minBlock"/> indices (a few per thread, at most <paramref name="maxBlock"/>: 1 when each index is
    /// a long piece of work, so a core slowed for a while leaves the others at most one index to wait for). Returns
    /// when every block has run.
    /// </summary>
    public static void For(int count, void* state, delegate*<void*, int, int, void> body, int minBlock = 1, int maxBlock = int.MaxValue)
    {
        if (count <= 0) return;
        Denormals.Apply();
        int threads = s_threads;
        if (threads == 1 || count <= minBlock || t_insideBody || !Monitor.TryEnter(s_gate))
        {
            body(state, 0, count);
            return;
        }
        try { RunOnPool(count, state, body, minBlock, maxBlock, threads); }
        finally { Monitor.Exit(s_gate); }
    }

    static void RunOnPool(int count, void* state, delegate*<void*, int, int, void> body, int minBlock, int maxBlock, int threads)
    {
        if (s_workers.Length != threads - 1) StartWorkers(threads - 1);

        // A few blocks per thread balance uneven work without many claims.
        int blockSize = Math.Max(minBlock, Math.Min(maxBlock, (count + threads * 4 - 1) / (threads * 4)));
        s_state = state;
        s_body = body;
        s_count = count;
        s_blockSize = blockSize;
        s_blockCount = (count + blockSize - 1) / blockSize;
        s_nextBlock = 0;
        s_failure = null;
        s_finishedWorkers = 0;
        int generation = s_generation + 1;
        Interlocked.Exchange(ref s_join, (long)generation << 32);
        Interlocked.Exchange(ref s_generation, generation);   // publishes the job (full fence)
        foreach (var worker in s_workers) worker.WakeIfSleeping();

        RunBlocks();
        // Every block is claimed: close the job to latecomers, then wait for the workers that joined.
        long join = Volatile.Read(ref s_join);
        while (true)
        {
            long seen = Interlocked.CompareExchange(ref s_join, join | ClosedBit, join);
            if (seen == join) break;
            join = seen;
        }
        int joined = (int)(join & (ClosedBit - 1));
        var spin = new SpinWait();
        while (Volatile.Read(ref s_finishedWorkers) < joined) spin.SpinOnce(sleep1Threshold: -1);

        s_state = null;
        s_failure?.Throw();
    }

    /// <summary>Claims and runs blocks of the current job until none are left.</summary>
    static void RunBlocks()
    {
        t_insideBody = true;
        try
        {
            while (true)
            {
                int block = Interlocked.Increment(ref s_nextBlock) - 1;
                if (block >= s_blockCount) return;
                int begin = block * s_blockSize;
                s_body(s_state, begin, Math.Min(s_count, begin + s_blockSize));
            }
        }
        catch (Exception e)
        {
            s_failure ??= ExceptionDispatchInfo.Capture(e);
            Volatile.Write(ref s_nextBlock, int.MaxValue / 2); // others stop claiming
        }
        finally { t_insideBody = false; }
    }

    static void StartWorkers(int n)
    {
        foreach (var worker in s_workers) worker.Stop();
        var workers = new Worker[n];
        for (int i = 0; i < n; i++) workers[i] = new Worker(i, Volatile.Read(ref s_generation));
        s_workers = workers;
    }

    sealed class Worker
    {
        readonly SemaphoreSlim _wake = new(0);
        int _sleeping;
        volatile bool _stopped;
        int _seenGeneration;

        public Worker(int index, int generation)
        {
            _seenGeneration = generation;
            new Thread(Loop) { IsBackground = true, Name = $"Forge.ForkJoin.{index}" }.Start();
        }

        public void Stop()
        {
            _stopped = true;
            _wake.Release();
        }

        public void WakeIfSleeping()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        void Loop()
        {
            while (true)
            {
                WaitForJob();
                if (_stopped) return;
                if (!TryJoin()) continue; // the caller already finished this job alone
                Denormals.Apply();
                RunBlocks();
                Interlocked.Increment(ref s_finishedWorkers);
            }
        }

        void WaitForJob()
        {
            for (int i = 0; i < SpinIterations; i++)
            {
                if (HasNewJob() || _stopped) return;
                Thread.SpinWait(8);
            }
            while (true)
            {
                // Announce sleep, then look once more: either the caller sees _sleeping and wakes us,
                // or we see its new generation. Spurious wake-ups just loop.
                Interlocked.Exchange(ref _sleeping, 1);
                if (HasNewJob() || _stopped) { Interlocked.Exchange(ref _sleeping, 0); return; }
                _wake.Wait();
                if (HasNewJob() || _stopped) return;
            }
        }

        bool TryJoin()
        {
            long join = Volatile.Read(ref s_join);
            while ((int)(join >> 32) == _seenGeneration && (join & ClosedBit) == 0)
            {
                long seen = Interlocked.CompareExchange(ref s_join, join + 1, join);
                if (seen == join) return true;
                join = seen;
            }
            return false;
        }

        bool HasNewJob()
        {
            int generation = Volatile.Read(ref s_generation);
            if (generation == _seenGeneration) return false;
            _seenGeneration = generation;
            return true;
        }
    }
}
