using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Device buffers kept for reuse, bucketed by element type and exact length: a training step asks
/// for the same sizes every time, so after the first step every <see cref="Rent{T}"/> is served
/// from the pool and the step allocates no device memory.
/// <para>
/// Returning a buffer that queued kernels still use is safe as long as everything runs on the
/// backend's one stream: the next renter's kernels are queued after them. Contents of a rented
/// buffer are whatever was left in it (not zeroed). Thread-safe.
/// </para>
/// </summary>
public sealed class IlgpuBufferPool : IDisposable
{
    readonly Accelerator _accelerator;
    readonly Dictionary<(Type Element, long Length), Stack<MemoryBuffer>> _free = new();
    // Every buffer the pool made and has not freed, rented or not. Holding them keeps a rented buffer
    // alive until it comes back: a renter that returns it from a finalizer (IlgpuStorage) would
    // otherwise race ILGPU's own finalizer of the buffer and hand a freed buffer to the next renter.
    readonly HashSet<MemoryBuffer> _owned = new(ReferenceEqualityComparer.Instance);
    long _allocatedBytes;
    int _allocations;

    internal IlgpuBufferPool(Accelerator accelerator) => _accelerator = accelerator;

    /// <summary>Device memory held by buffers this pool allocated (rented out or free), in bytes.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>How many device allocations the pool has made (stays constant in steady state).</summary>
    public int Allocations => Volatile.Read(ref _allocations);

    /// <summary>A buffer of exactly <paramref name="length"/> elements, reused when one is free.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_free)
        {
            if (_free.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
                return (MemoryBuffer1D<T, Stride1D.Dense>)stack.Pop();
        }
        var buffer = _accelerator.Allocate1D<T>(length);
        lock (_free) _owned.Add(buffer);
        Interlocked.Add(ref _allocatedBytes, buffer.LengthInBytes);
        Interlocked.Increment(ref _allocations);
        return buffer;
    }

    /// <summary>Gives a buffer from <see cref="Rent{T}"/> back for reuse.</summary>
    public void Return<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        lock (_free)
        {
            var key = (typeof(T), buffer.Length);
            if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<MemoryBuffer>();
            stack.Push(buffer);
        }
    }

    /// <summary>Frees every buffer currently in the pool (rented ones stay the renters' to dispose).</summary>
    public void Trim()
    {
        lock (_free)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0)
                {
                    var buffer = stack.Pop();
                    _owned.Remove(buffer);
                    Interlocked.Add(ref _allocatedBytes, -buffer.LengthInBytes);
                    buffer.Dispose();
                }
        }
    }

    /// <summary>Same as <see cref="Trim"/>.</summary>
    public void Dispose() => Trim();
}
