using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// One ILGPU accelerator ready to run Forge's kernels: the context (with ILGPU.Algorithms enabled for
/// group reductions), the accelerator, the stream every kernel is queued on, the kernels loaded so
/// far (each compiled once, on first use) and a pool of device buffers.
/// <para>
/// Kernel calls (<see cref="IlgpuGemm"/>, <see cref="IlgpuSoftmax"/>, …) only queue work on
/// <see cref="Stream"/> and return; reading results back to the host, or timing, needs
/// <see cref="Synchronize"/> first (the ILGPU copy helpers on the default stream synchronise by
/// themselves). Not thread-safe for concurrent kernel calls, except that loading kernels is.
/// </para>
/// </summary>
public sealed class IlgpuBackend : IDisposable
{
    readonly object _loadLock = new();
    object?[] _kernelSets = new object?[32];
    int _loadedSets;

    IlgpuBackend(Context context, Accelerator accelerator, IlgpuDeviceKind kind)
    {
        Context = context;
        Accelerator = accelerator;
        Kind = kind;
        Stream = accelerator.DefaultStream;
        Pool = new IlgpuBufferPool(accelerator);
        SupportsFloat64 = accelerator is not CLAccelerator cl || cl.Capabilities.Float64;
        // Row kernels (softmax, layer norm, …) run one group per row. 256 threads keep a GPU's
        // warps busy on rows of a few hundred to thousands of columns; the CPU emulator runs every
        // GPU thread as an OS thread, so there the group is as small as it allows.
        int rowGroup = kind == IlgpuDeviceKind.CpuEmulation ? accelerator.MaxNumThreadsPerGroup : 256;
        RowGroupSize = RowGroupFor(Math.Min(Math.Min(rowGroup, accelerator.MaxNumThreadsPerGroup), DeterministicGroup.MaxGroupSize), accelerator.WarpSize);
        SmallGemmTiles = kind == IlgpuDeviceKind.CpuEmulation && accelerator.MaxNumThreadsPerGroup < 256;
        PairGroupSize = Math.Min(128, RowGroupSize);
        DynamicSharedMemoryBytes = kind == IlgpuDeviceKind.OpenCL ? 0 : Math.Min(48 * 1024, accelerator.MaxSharedMemoryPerGroup);
        ParallelGroups = Math.Max(4, 2 * accelerator.NumMultiprocessors);
    }

    /// <summary>The ILGPU context (owns compiled-kernel caches and the algorithms extension).</summary>
    public Context Context { get; }

    /// <summary>The device.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Which kind of device this is.</summary>
    public IlgpuDeviceKind Kind { get; }

    /// <summary>The stream every kernel of this backend is queued on (in order).</summary>
    public AcceleratorStream Stream { get; }

    /// <summary>Reusable device buffers.</summary>
    public IlgpuBufferPool Pool { get; }

    /// <summary>Whether double-precision kernels can run here.</summary>
    public bool SupportsFloat64 { get; }

    /// <summary>Threads per group of the one-group-per-row kernels (whole warps where the device reports a usable warp size).</summary>
    internal int RowGroupSize { get; }

    /// <summary>
    /// <paramref name="limit"/> rounded down to whole warps — or <paramref name="limit"/> itself when the device's
    /// "warp" is no use for that: OpenCL devices report the kernel's preferred work-group multiple as the warp size,
    /// which PoCL's CPU driver puts at 4,096 (and a driver may leave at 0). Rounding down to that gave groups of 0
    /// threads: every row kernel and whole-view sum failed on such devices.
    /// </summary>
    internal static int RowGroupFor(int limit, int warpSize) =>
        warpSize >= 1 && warpSize <= limit ? limit / warpSize * warpSize : limit;

    /// <summary>
    /// Threads per group of the one-group-per-(batch, head) attention kernels (<see cref="AttentionPairKernels"/>):
    /// 128 on a GPU (four warps over a pair's few dozen rows), the emulator's group size there.
    /// </summary>
    internal int PairGroupSize { get; }

    /// <summary>
    /// The dynamic shared memory a kernel may request per group: 48 KiB (what CUDA gives a group without the opt-in
    /// attribute) or the device's limit if lower — and none on OpenCL, where ILGPU 1.5.3 hands a kernel its dynamic
    /// shared memory through one program-scope pointer variable written by every group, so groups running at the same
    /// time overwrite each other's pointer (on PoCL every launch of more than one group came out wrong).
    /// </summary>
    internal long DynamicSharedMemoryBytes { get; }

    /// <summary>
    /// Attention runs one group per (batch, head) pair from shared memory where the pair fits (the default), else one
    /// group per query row. Off with the environment variable <c>FORGE_ILGPU_ATTENTION=rows</c> when the backend is
    /// created, or by setting it: the row kernels, for comparing the two on a GPU (bench/gpu/run.sh) and in tests.
    /// </summary>
    public bool AttentionInSharedMemory { get; set; } = true;

    /// <summary>
    /// GEMM tiles of 4×4 threads instead of 16×16: the CPU emulator's groups are small, and every
    /// emulated thread is an OS thread, so small tiles keep tests fast.
    /// </summary>
    internal bool SmallGemmTiles { get; }

    /// <summary>
    /// Groups a launch needs to keep every multiprocessor busy (two per multiprocessor, at least 4).
    /// Kernels whose natural grid is smaller (a GEMM with few output tiles and a long k, a column
    /// sum over many rows) split their long loop into this many pieces and add the pieces in a second,
    /// fixed-order pass: as deterministic as one loop, a different (fixed) rounding order.
    /// </summary>
    internal int ParallelGroups { get; }

    bool _wideGemm;

    /// <summary>
    /// float32 GEMMs use <see cref="GemmWideKernels"/> (128 × 128 tiles, 8 × 8 per thread, vector shared loads) instead
    /// of the tiled kernel. Off by default until it is measured on a GPU; on with the environment variable
    /// <c>FORGE_ILGPU_GEMM=wide</c> when the backend is created, or by setting it. Needs groups of 256 threads.
    /// </summary>
    /// <exception cref="NotSupportedException">Set on a device whose groups hold fewer than 256 threads.</exception>
    public bool WideGemm
    {
        get => _wideGemm;
        set
        {
            if (value && Accelerator.MaxNumThreadsPerGroup < GemmWideKernels.Threads * GemmWideKernels.Threads)
                throw new NotSupportedException($"{this}: the wide GEMM needs groups of {GemmWideKernels.Threads * GemmWideKernels.Threads} threads, the device has {Accelerator.MaxNumThreadsPerGroup}.");
            _wideGemm = value;
        }
    }

    /// <summary>How many kernel sets have been compiled and loaded (tests check kernels load once).</summary>
    internal int LoadedKernelSets => Volatile.Read(ref _loadedSets);

    /// <summary>
    /// A backend on device <paramref name="index"/> of <paramref name="kind"/> (see
    /// <see cref="IlgpuDevices.Available"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No such device.</exception>
    public static IlgpuBackend Create(IlgpuDeviceKind kind, int index = 0)
    {
        if (kind == IlgpuDeviceKind.CpuEmulation) return CreateCpuEmulation();
        var context = Context.Create(builder =>
        {
            if (kind == IlgpuDeviceKind.Cuda) builder.Cuda(); else builder.OpenCL();
            builder.EnableAlgorithms().Optimize(OptimizationLevel.O2);
        });
        try
        {
            Accelerator accelerator = kind == IlgpuDeviceKind.Cuda
                ? context.CreateCudaAccelerator(CheckIndex(kind, index, context.GetCudaDevices().Count))
                : context.CreateCLAccelerator(CheckIndex(kind, index, context.GetCLDevices().Count));
            var backend = new IlgpuBackend(context, accelerator, kind);
            if (string.Equals(Environment.GetEnvironmentVariable("FORGE_ILGPU_GEMM"), "wide", StringComparison.OrdinalIgnoreCase))
                backend.WideGemm = true;
            if (string.Equals(Environment.GetEnvironmentVariable("FORGE_ILGPU_ATTENTION"), "rows", StringComparison.OrdinalIgnoreCase))
                backend.AttentionInSharedMemory = false;
            return backend;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A backend on ILGPU's CPU emulator. The default emulates groups of 16 threads in warps of 4
    /// (fast enough for tests); <paramref name="threadsPerWarp"/> and <paramref name="warpsPerGroup"/>
    /// emulate other shapes, e.g. (32, 8) for GPU-sized groups of 256.
    /// </summary>
    public static IlgpuBackend CreateCpuEmulation(int threadsPerWarp = 4, int warpsPerGroup = 4)
    {
        var device = new CPUDevice(threadsPerWarp, warpsPerGroup, numMultiprocessors: 1);
        var context = Context.Create(builder => builder.CPU(device).EnableAlgorithms());
        try
        {
            return new IlgpuBackend(context, device.CreateCPUAccelerator(context), IlgpuDeviceKind.CpuEmulation);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    static int CheckIndex(IlgpuDeviceKind kind, int index, int count) =>
        (uint)index < (uint)count ? index
            : throw new ArgumentException($"IlgpuBackend: no {kind} device {index}; {count} found.", nameof(index));

    long _launches, _hostWaits;

    /// <summary>
    /// Forge kernels queued on this backend so far (every launcher goes through
    /// <see cref="KernelMethods.Counted{TIndex, TArgs}"/>). On a GPU each launch costs a few microseconds of
    /// host and device time whatever its size, so tests hold a training step to a launch budget.
    /// </summary>
    public long Launches => Interlocked.Read(ref _launches);

    /// <summary>
    /// Times the host has waited for the device so far: <see cref="Synchronize"/>, and every host copy
    /// (<see cref="Upload{T}"/>, the storage's reads and writes, which wait for the stream). A wait
    /// inside a training step stalls the GPU until the host has queued the next kernel; tests count them.
    /// </summary>
    public long HostWaits => Interlocked.Read(ref _hostWaits);

    Dictionary<string, long>? _tally;

    /// <summary>
    /// Starts (or restarts) counting launches per kernel, for <see cref="LaunchesByKernel"/>; a diagnostic
    /// (tests and budgets print where a step's launches go), off by default.
    /// </summary>
    public void StartLaunchTally()
    {
        lock (_loadLock) _tally = new Dictionary<string, long>();
    }

    /// <summary>Launches per kernel ("IlgpuGelu.Forward", …) since <see cref="StartLaunchTally"/>, most first; empty when not tallying.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> LaunchesByKernel()
    {
        lock (_loadLock) return _tally is null ? [] : _tally.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Stops the per-kernel tally (launches are still counted in <see cref="Launches"/>) and forgets it.</summary>
    public void StopLaunchTally()
    {
        lock (_loadLock) _tally = null;
    }

    internal void CountLaunch(string kernel)
    {
        Interlocked.Increment(ref _launches);
        if (Volatile.Read(ref _tally) is null) return;
        lock (_loadLock)
            if (_tally is not null) _tally[kernel] = _tally.GetValueOrDefault(kernel) + 1;
    }

    /// <summary>Blocks until every kernel queued on <see cref="Stream"/> has finished (counted in <see cref="HostWaits"/>).</summary>
    public void Synchronize()
    {
        Interlocked.Increment(ref _hostWaits);
        Stream.Synchronize();
    }

    /// <summary>
    /// A new device buffer holding a copy of <paramref name="data"/> (for tests and one-off uploads;
    /// waits for the copy, so the span may be reused at once).
    /// </summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(data.Length);
        buffer.View.CopyFromCPU(Stream, data);
        Synchronize();
        return buffer;
    }

    /// <summary>
    /// The loaded kernels of <typeparamref name="TSet"/>, compiling them on first use. The fast path
    /// is an array read: no lookup, no allocation.
    /// </summary>
    internal TSet Kernels<TSet>() where TSet : class, IKernelSet<TSet>
    {
        int id = KernelSetId<TSet>.Value;
        var sets = Volatile.Read(ref _kernelSets);
        if (id < sets.Length && sets[id] is TSet loaded) return loaded;
        return LoadKernels<TSet>(id);
    }

    TSet LoadKernels<TSet>(int id) where TSet : class, IKernelSet<TSet>
    {
        lock (_loadLock)
        {
            if (id < _kernelSets.Length && _kernelSets[id] is TSet loaded) return loaded;
            var set = TSet.Load(this);
            var sets = _kernelSets;
            if (id >= sets.Length) Array.Resize(ref sets, Math.Max(id + 1, 2 * sets.Length));
            sets[id] = set;
            Volatile.Write(ref _kernelSets, sets);
            Interlocked.Increment(ref _loadedSets);
            return set;
        }
    }

    /// <summary>Frees the pooled buffers, the accelerator and the context.</summary>
    public void Dispose()
    {
        Pool.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Accelerator.Name}";
}
