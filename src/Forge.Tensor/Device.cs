namespace Forge;

/// <summary>
/// Where tensor memory lives and kernels run. The CPU device holds plain managed arrays; a GPU device
/// (ILGPU: CUDA, OpenCL, or its CPU emulator for tests) holds device buffers and moves data only
/// when asked to (<see cref="Storage{T}.CopyToHost"/>).
/// </summary>
public abstract class Device
{
    /// <summary>The name used on the command line: <c>cpu</c>, <c>cuda</c>, <c>opencl</c>, <c>ilgpu-cpu</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Allocates zero-initialised storage for <paramref name="length"/> elements.</summary>
    public abstract Storage<T> Allocate<T>(int length) where T : unmanaged;

    public override string ToString() => Name;
}

/// <summary>The host CPU: storage is a managed array, kernels are the SIMD CPU kernels.</summary>
public sealed class CpuDevice : Device
{
    public static readonly CpuDevice Instance = new();
    CpuDevice() { }
    public override string Name => "cpu";
    public override Storage<T> Allocate<T>(int length) => new CpuStorage<T>(new T[length]);
}
