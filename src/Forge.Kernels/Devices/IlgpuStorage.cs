using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Devices;

/// <summary>
/// Tensor storage in an ILGPU device buffer rented from the device's pool (zeroed on allocation, as
/// every <see cref="Device.Allocate{T}"/> promises). Host copies are queued on the device's stream
/// and wait for it, so they see the results of every kernel queued before them. The buffer goes back
/// to the pool when the storage is collected.
/// </summary>
public sealed class IlgpuStorage<T> : Storage<T> where T : unmanaged
{
    readonly IlgpuDevice _device;

    internal IlgpuStorage(IlgpuDevice device, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _device = device;
        Buffer = device.Accelerator.Pool.Rent<T>(Math.Max(length, 1));
        Length = length;
        Buffer.View.MemSetToZero(device.Accelerator.Stream);
        device.Accelerator.CountLaunch("(memset of a new buffer)");   // a device memset: launch budgets count it (a step that allocates shows up)
    }

    /// <summary>The device buffer (at least one element, so empty tensors still have a view).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Buffer { get; }

    public override Device Device => _device;
    public override int Length { get; }

    /// <summary>The elements [offset, offset + length) as a view for a kernel.</summary>
    public ArrayView1D<T, Stride1D.Dense> View(int offset, int length) => Buffer.View.SubView(offset, length);

    public override void CopyToHost(int offset, Span<T> destination)
    {
        Check(offset, destination.Length);
        if (destination.IsEmpty) return;
        View(offset, destination.Length).CopyToCPU(_device.Accelerator.Stream, destination);
        _device.Accelerator.Synchronize();
    }

    public override void CopyFromHost(int offset, ReadOnlySpan<T> source)
    {
        Check(offset, source.Length);
        if (source.IsEmpty) return;
        View(offset, source.Length).CopyFromCPU(_device.Accelerator.Stream, source);
        _device.Accelerator.Synchronize();   // the source span may be reused as soon as we return
    }

    void Check(int offset, int count)
    {
        if (offset < 0 || count < 0 || (long)offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"IlgpuStorage: [{offset}, {offset + count}) is outside the {Length} elements on '{_device.Name}'");
    }

    ~IlgpuStorage()
    {
        try { _device.Accelerator.Pool.Return(Buffer); }
        catch (ObjectDisposedException) { }
    }
}
