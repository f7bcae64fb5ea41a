using System.Buffers.Binary;

namespace Forge.Models.Checkpoints;

/// <summary>Typed access: entries as <see cref="Tensor{T}"/>, with dtype conversion and shape checks.</summary>
public sealed partial class SafeTensorsFile
{
    /// <summary>
    /// Throws a <see cref="CheckpointException"/> naming the tensor, this file, the expected and the actual
    /// shape unless the tensor named <paramref name="name"/> exists and has exactly <paramref name="expectedShape"/>.
    /// </summary>
    public void CheckShape(string name, params int[] expectedShape)
    {
        var entry = GetEntry(name);
        if (!entry.ShapeSpan.SequenceEqual(expectedShape))
            throw Error($"tensor '{name}' has shape {Forge.Shape.Format(entry.Shape)}, expected {Forge.Shape.Format(expectedShape)}");
    }

    /// <summary>
    /// The tensor named <paramref name="name"/> as float32. F32 is returned bit-exactly; F16 and BF16 are
    /// widened exactly; F64 is rounded to the nearest float (beyond ±3.4e38 to ±∞). Other dtypes throw.
    /// When <paramref name="expectedShape"/> is given the shape is checked first (see <see cref="CheckShape"/>).
    /// </summary>
    public Tensor<float> GetFloat(string name, int[]? expectedShape = null)
    {
        var entry = GetTyped(name, expectedShape, "GetFloat", "F32, F64, F16 or BF16", ElementCodec.IsFloatingPoint);
        return Tensor.FromArray(ElementCodec.ToSingles(entry.DType, entry.Data), entry.Shape);
    }

    /// <summary>
    /// The tensor named <paramref name="name"/> as float64: F64 bit-exactly, F32/F16/BF16 widened exactly.
    /// Other dtypes throw.
    /// </summary>
    public Tensor<double> GetDouble(string name, int[]? expectedShape = null)
    {
        var entry = GetTyped(name, expectedShape, "GetDouble", "F64, F32, F16 or BF16", ElementCodec.IsFloatingPoint);
        return Tensor.FromArray(ElementCodec.ToDoubles(entry.DType, entry.Data), entry.Shape);
    }

    /// <summary>
    /// The tensor named <paramref name="name"/> as int32. I32 as stored; any other integer dtype (I64 as
    /// written by PyTorch for token ids, U8, …) is converted, and a value outside the int32 range throws
    /// naming the element. Floating-point and BOOL tensors throw.
    /// </summary>
    public Tensor<int> GetInt32(string name, int[]? expectedShape = null)
    {
        var entry = GetTyped(name, expectedShape, "GetInt32", "an integer dtype", ElementCodec.IsInteger);
        if (entry.DType == SafeTensorsDType.I32) return Tensor.FromArray(ElementCodec.Decode<int>(entry.Data), entry.Shape);
        var values = new int[entry.ElementCount];
        for (int i = 0; i < values.Length; i++)
        {
            long? value = ElementCodec.IntegerAt(entry.DType, entry.Data, i);
            if (value is not { } fits || fits < int.MinValue || fits > int.MaxValue)
                throw OutOfRange(entry, i, "int32");
            values[i] = (int)fits;
        }
        return Tensor.FromArray(values, entry.Shape);
    }

    /// <summary>
    /// The tensor named <paramref name="name"/> as int64: any integer dtype; a U64 value above
    /// <see cref="long.MaxValue"/> throws naming the element. Floating-point and BOOL tensors throw.
    /// </summary>
    public Tensor<long> GetInt64(string name, int[]? expectedShape = null)
    {
        var entry = GetTyped(name, expectedShape, "GetInt64", "an integer dtype", ElementCodec.IsInteger);
        if (entry.DType == SafeTensorsDType.I64) return Tensor.FromArray(ElementCodec.Decode<long>(entry.Data), entry.Shape);
        var values = new long[entry.ElementCount];
        for (int i = 0; i < values.Length; i++)
            values[i] = ElementCodec.IntegerAt(entry.DType, entry.Data, i) ?? throw OutOfRange(entry, i, "int64");
        return Tensor.FromArray(values, entry.Shape);
    }

    SafeTensorsEntry GetTyped(string name, int[]? expectedShape, string method, string accepted, Func<SafeTensorsDType, bool> accepts)
    {
        var entry = GetEntry(name);
        if (expectedShape != null) CheckShape(name, expectedShape);
        if (!accepts(entry.DType))
            throw Error($"tensor '{name}' has dtype {entry.DType}; {method} reads {accepted}");
        if (entry.ElementCount > int.MaxValue)
            throw Error($"tensor '{name}' has {entry.ElementCount} elements, more than a Forge tensor holds (2^31 − 1)");
        return entry;
    }

    CheckpointException OutOfRange(SafeTensorsEntry entry, int index, string target)
    {
        string shown = entry.DType == SafeTensorsDType.U64
            ? BinaryPrimitives.ReadUInt64LittleEndian(entry.Data.Slice(8 * index, 8)).ToString()
            : ElementCodec.IntegerAt(entry.DType, entry.Data, index).ToString()!;
        return Error($"tensor '{entry.Name}' ({entry.DType}) element {index} is {shown}, which does not fit in {target}");
    }
}
