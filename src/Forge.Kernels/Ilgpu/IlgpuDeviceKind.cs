namespace Forge.Kernels.Ilgpu;

/// <summary>Which ILGPU accelerator an <see cref="IlgpuBackend"/> runs on.</summary>
public enum IlgpuDeviceKind
{
    /// <summary>An NVIDIA GPU through the CUDA driver (PTX kernels).</summary>
    Cuda,
    /// <summary>A GPU through OpenCL (OpenCL C kernels).</summary>
    OpenCL,
    /// <summary>
    /// ILGPU's CPU accelerator, which emulates groups, warps and barriers with one OS thread per GPU
    /// thread. It is for tests only (about a thousand times slower than plain loops): the engine's own
    /// SIMD kernels are the CPU path. Known quirk: its group reductions add floats with
    /// compare-and-swap loops that never finish when a value is NaN, so a NaN reaching a row
    /// reduction (softmax, layer norm, …) hangs the emulator; real GPUs are unaffected.
    /// </summary>
    CpuEmulation,
}

/// <summary>One accelerator ILGPU can see.</summary>
/// <param name="Kind">CUDA, OpenCL or the CPU emulator.</param>
/// <param name="Index">Index among the devices of this kind (what <see cref="IlgpuBackend.Create"/> takes).</param>
/// <param name="Name">The device name the driver reports.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
/// <param name="SupportsFloat64">Whether double-precision kernels can run (always on CUDA, optional on OpenCL).</param>
public sealed record IlgpuDeviceInfo(IlgpuDeviceKind Kind, int Index, string Name, long MemoryBytes, bool SupportsFloat64);
