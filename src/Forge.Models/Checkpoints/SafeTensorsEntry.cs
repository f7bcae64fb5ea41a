namespace Forge.Models.Checkpoints;

/// <summary>
/// One named tensor of a safetensors file: its dtype, its shape and its raw little-endian bytes
/// (row-major). Immutable: the bytes are owned by the entry and never exposed for writing.
/// </summary>
public sealed class SafeTensorsEntry
{
    readonly int[] _shape;
    readonly byte[] _data;

    public string Name { get; }
    public SafeTensorsDType DType { get; }
    /// <summary>A copy of the shape; <c>[]</c> for a scalar.</summary>
    public int[] Shape => (int[])_shape.Clone();
    public ReadOnlySpan<int> ShapeSpan => _shape;
    /// <summary>Product of the shape (1 for a scalar, 0 when any dimension is 0).</summary>
    public long ElementCount { get; }
    /// <summary>The raw bytes, <see cref="ElementCount"/> · <see cref="SafeTensorsDTypes.SizeInBytes"/> of them.</summary>
    public ReadOnlySpan<byte> Data => _data;
    public long ByteCount => _data.Length;

    /// <summary>
    /// An entry owning <paramref name="data"/> (not copied). Throws <see cref="ArgumentException"/> when a
    /// dimension is negative or the byte count does not match the shape and dtype.
    /// </summary>
    public SafeTensorsEntry(string name, SafeTensorsDType dtype, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long expectedBytes = ExpectedByteCount(dtype, shape, out string? problem);
        if (problem != null) throw new ArgumentException($"SafeTensorsEntry '{name}': {problem}", nameof(shape));
        if (data.Length != expectedBytes)
            throw new ArgumentException($"SafeTensorsEntry '{name}': {data.Length} bytes of data for shape {Forge.Shape.Format(shape)} of {dtype} need {expectedBytes}", nameof(data));
        Name = name;
        DType = dtype;
        _shape = (int[])shape.Clone();
        _data = data;
        ElementCount = expectedBytes / dtype.SizeInBytes();
    }

    /// <summary>
    /// Bytes needed by a tensor of <paramref name="shape"/> and <paramref name="dtype"/>, or −1 with a
    /// <paramref name="problem"/> when a dimension is negative or the size overflows what an array holds.
    /// </summary>
    internal static long ExpectedByteCount(SafeTensorsDType dtype, ReadOnlySpan<int> shape, out string? problem)
    {
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                problem = $"negative dimension {dim} in shape {Forge.Shape.Format(shape.ToArray())}";
                return -1;
            }
        }
        long bytes = shape.Contains(0) ? 0 : dtype.SizeInBytes();
        foreach (int dim in shape)
        {
            bytes *= dim; // cannot overflow: bytes ≤ Array.MaxLength and dim < 2^31 before the check below
            if (bytes > Array.MaxLength)
            {
                problem = $"shape {Forge.Shape.Format(shape.ToArray())} of {dtype} is larger than the {Array.MaxLength} bytes one tensor may hold";
                return -1;
            }
        }
        problem = null;
        return bytes;
    }

    public override string ToString() => $"{Name}: {DType}{Forge.Shape.Format(_shape)}";
}
