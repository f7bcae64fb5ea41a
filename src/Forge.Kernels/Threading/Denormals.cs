using System.Runtime.InteropServices;

namespace Forge.Kernels.Threading;

/// <summary>
/// Whether float arithmetic on Forge's threads keeps denormal numbers (IEEE gradual underflow, the default) or flushes
/// them to zero: results below 1.18·10⁻³⁸ (float) become 0 (FTZ) and such inputs are read as 0 (DAZ), the two MXCSR
/// bits of x86-64.
/// <para>
/// Why: late in training a confident model's softmax gives probabilities like e⁻⁹⁰, which are denormal; on Intel cores
/// every operation that produces or reads one takes a microcode assist of about a hundred cycles. On the Xeon of issue 17
/// the sorting step went from 14 to 30 ms over the last 1,400 steps of the README's run, and back to 14 ms with flushing
/// (docs/performance.md, "Issue 17, tenth round"). The price: values under 10⁻³⁸ are lost, which changes the last bits of
/// a run's numbers (the sorting run's validation loss in its eighth significant digit), so it is a recipe setting.
/// </para>
/// <para>
/// The mode is per thread in the hardware. Setting <see cref="FlushToZero"/> applies it to the calling thread at once
/// and to every other thread when it next enters <see cref="ForkJoin.For(int, void*, delegate*{void*, int, int, void}, int, int)"/>
/// (the pool's workers, before they run a block), so every kernel of a step runs in the same mode. Supported on x86-64
/// Linux (glibc or musl); elsewhere <see cref="IsSupported"/> is false and setting it to true throws.
/// </para>
/// </summary>
public static unsafe class Denormals
{
    /// <summary>FTZ (bit 15) and DAZ (bit 6) of MXCSR.</summary>
    const uint FlushBits = 0x8040;

    /// <summary>Offset of MXCSR in x86-64 Linux's fenv_t (the x87 environment's 28 bytes, then MXCSR), glibc and musl alike.</summary>
    const int MxcsrOffset = 28;

    static volatile int s_generation;   // bumped on every change; a thread whose t_generation differs re-applies the mode
    static volatile bool s_flush;
    [ThreadStatic] static int t_generation;

    /// <summary>True where the mode can be changed: x86-64 Linux.</summary>
    public static bool IsSupported { get; } = RuntimeInformation.ProcessArchitecture == Architecture.X64 && OperatingSystem.IsLinux();

    /// <summary>
    /// True: Forge's threads flush denormals to zero (FTZ and DAZ); false: IEEE gradual underflow (the hardware's default).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Set to true where <see cref="IsSupported"/> is false.</exception>
    public static bool FlushToZero
    {
        get => s_flush;
        set
        {
            if (value && !IsSupported)
                throw new PlatformNotSupportedException($"flushing denormals to zero needs x86-64 Linux; this is {RuntimeInformation.OSDescription} on {RuntimeInformation.ProcessArchitecture}");
            s_flush = value;
            Interlocked.Increment(ref s_generation);
            Apply();
        }
    }

    /// <summary>Puts the calling thread in the current mode if it is not already (a thread-static compare when it is).</summary>
    internal static void Apply()
    {
        int generation = s_generation;
        if (t_generation == generation) return;
        t_generation = generation;
        if (IsSupported) SetThisThread(s_flush);
    }

    /// <summary>Whether the calling thread's MXCSR has both flush bits set (for tests).</summary>
    internal static bool ThisThreadFlushes()
    {
        if (!IsSupported) return false;
        byte* environment = stackalloc byte[FenvBytes];
        Check(fegetenv(environment), "fegetenv");
        return (*(uint*)(environment + MxcsrOffset) & FlushBits) == FlushBits;
    }

    const int FenvBytes = 64;   // fenv_t is 32 bytes on x86-64 Linux; room to spare

    static void SetThisThread(bool flush)
    {
        byte* environment = stackalloc byte[FenvBytes];
        Check(fegetenv(environment), "fegetenv");
        uint* mxcsr = (uint*)(environment + MxcsrOffset);
        *mxcsr = flush ? *mxcsr | FlushBits : *mxcsr & ~FlushBits;
        Check(fesetenv(environment), "fesetenv");
    }

    static void Check(int result, string function)
    {
        if (result != 0) throw new InvalidOperationException($"Denormals: {function} failed ({result})");
    }

    [DllImport("libm.so.6")] static extern int fegetenv(byte* environment);
    [DllImport("libm.so.6")] static extern int fesetenv(byte* environment);
}
