namespace Forge.Kernels.Ilgpu;

/// <summary>
/// The blocking of the tiled GEMM kernel, as a type so that its sizes are compile-time constants
/// inside the kernel (ILGPU folds <c>default(TTiling).Threads</c>, which sizes shared memory and lets
/// the micro-tile loops unroll). A group of Threads × Threads threads computes a block of
/// (Threads·Micro) × (Threads·Micro) elements of C, each thread a Micro × Micro sub-grid of it,
/// stepping through k in slices of Threads.
/// </summary>
internal interface IGemmTiling
{
    /// <summary>Threads along each side of a group (also the k-slice depth).</summary>
    int Threads { get; }

    /// <summary>C elements per thread along each side.</summary>
    int Micro { get; }
}

/// <summary>GPU blocking: 16×16 threads, 4×4 outputs each, a 64×64 block of C per group.</summary>
internal readonly struct GpuGemmTiling : IGemmTiling
{
    public int Threads => 16;
    public int Micro => 4;
}

/// <summary>CPU-emulator blocking: 4×4 threads, 2×2 outputs each, an 8×8 block of C per group.</summary>
internal readonly struct EmulatorGemmTiling : IGemmTiling
{
    public int Threads => 4;
    public int Micro => 2;
}
