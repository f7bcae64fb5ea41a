namespace Forge.Kernels.Ilgpu;

/// <summary>
/// The blocking of the tiled GEMM kernel, as a type so that its size is a compile-time constant
/// inside the kernel (ILGPU folds <c>default(TTiling).Threads</c>, which sizes shared memory). A group
/// of Threads × Threads threads computes a block of (4·Threads) × (4·Threads) elements of C, each
/// thread a 4 × 4 sub-grid of it held in registers (<see cref="GemmKernels.Micro"/>), stepping
/// through k in slices of Threads.
/// </summary>
internal interface IGemmTiling
{
    /// <summary>Threads along each side of a group (also the k-slice depth).</summary>
    int Threads { get; }
}

/// <summary>GPU blocking: 16×16 threads, a 64×64 block of C per group.</summary>
internal readonly struct GpuGemmTiling : IGemmTiling
{
    public int Threads => 16;
}

/// <summary>CPU-emulator blocking: 4×4 threads (every emulated thread is an OS thread), a 16×16 block of C per group.</summary>
internal readonly struct EmulatorGemmTiling : IGemmTiling
{
    public int Threads => 4;
}
