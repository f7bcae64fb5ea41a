namespace Forge;

/// <summary>A flat buffer of elements on a <see cref="Device"/>; tensors are strided views of one.</summary>
public abstract class Storage<T> where T : unmanaged
{
    public abstract Device Device { get; }
    public abstract int Length { get; }

    /// <summary>Copies <c>destination.Length</c> elements starting at <paramref name="offset"/> to host memory.</summary>
    public abstract void CopyToHost(int offset, Span<T> destination);

    /// <summary>Copies host memory into this storage starting at <paramref name="offset"/>.</summary>
    public abstract void CopyFromHost(int offset, ReadOnlySpan<T> source);
}

/// <summary>Storage in a managed array: the CPU kernels read and write <see cref="Array"/> directly.</summary>
public sealed class CpuStorage<T>(T[] array) : Storage<T> where T : unmanaged
{
    public T[] Array { get; } = array;
    public override Device Device => CpuDevice.Instance;
    public override int Length => Array.Length;
    public override void CopyToHost(int offset, Span<T> destination) => Array.AsSpan(offset, destination.Length).CopyTo(destination);
    public override void CopyFromHost(int offset, ReadOnlySpan<T> source) => source.CopyTo(Array.AsSpan(offset, source.Length));
}
