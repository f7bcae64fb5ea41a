using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Forge.Models.Checkpoints;

/// <summary>
/// Converts between typed elements and the little-endian bytes of a safetensors buffer, including the
/// half-precision formats (F16, BF16). Widening conversions are exact; narrowing ones are documented
/// where they are offered.
/// </summary>
internal static class ElementCodec
{
    /// <summary>The little-endian bytes of <paramref name="values"/> (a new array).</summary>
    public static byte[] Encode<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian) ReverseEachElement(bytes, Unsafe.SizeOf<T>());
        return bytes;
    }

    /// <summary>Reinterprets little-endian <paramref name="bytes"/> as elements of <typeparamref name="T"/> (a new array).</summary>
    public static T[] Decode<T>(ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        var values = new T[bytes.Length / Unsafe.SizeOf<T>()];
        // A byte copy, not MemoryMarshal.Cast: the source need not be aligned for T.
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        if (!BitConverter.IsLittleEndian) ReverseEachElement(MemoryMarshal.AsBytes(values.AsSpan()), Unsafe.SizeOf<T>());
        return values;
    }

    static void ReverseEachElement(Span<byte> bytes, int elementSize)
    {
        for (int i = 0; i + elementSize <= bytes.Length; i += elementSize) bytes.Slice(i, elementSize).Reverse();
    }

    /// <summary>bfloat16 is the upper half of a float32, so widening is a shift (exact, NaN and ±∞ kept).</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float32 → bfloat16, rounding to nearest even (as PyTorch does); NaN stays a quiet NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>float16 → float32 (exact).</summary>
    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>float32 → float16, rounding to nearest even; out-of-range values become ±∞.</summary>
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>The elements of a floating-point entry (F16, BF16, F32, F64) as doubles (exact).</summary>
    public static double[] ToDoubles(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes) => dtype switch
    {
        SafeTensorsDType.F64 => Decode<double>(bytes),
        SafeTensorsDType.F32 => Widen(Decode<float>(bytes)),
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => Widen(HalvesToSingles(dtype, bytes)),
        _ => throw new InvalidOperationException($"ElementCodec.ToDoubles: {dtype} is not a floating-point dtype"),
    };

    /// <summary>
    /// The elements of a floating-point entry as floats: F32 as stored, F16/BF16 widened exactly,
    /// F64 rounded to the nearest float (values beyond the float range become ±∞).
    /// </summary>
    public static float[] ToSingles(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F32: return Decode<float>(bytes);
            case SafeTensorsDType.F16 or SafeTensorsDType.BF16: return HalvesToSingles(dtype, bytes);
            case SafeTensorsDType.F64:
                var doubles = Decode<double>(bytes);
                var singles = new float[doubles.Length];
                for (int i = 0; i < doubles.Length; i++) singles[i] = (float)doubles[i];
                return singles;
            default: throw new InvalidOperationException($"ElementCodec.ToSingles: {dtype} is not a floating-point dtype");
        }
    }

    static float[] HalvesToSingles(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes)
    {
        var singles = new float[bytes.Length / 2];
        for (int i = 0; i < singles.Length; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i, 2));
            singles[i] = dtype == SafeTensorsDType.BF16 ? BFloat16ToSingle(bits) : HalfToSingle(bits);
        }
        return singles;
    }

    static double[] Widen(float[] singles)
    {
        var doubles = new double[singles.Length];
        for (int i = 0; i < singles.Length; i++) doubles[i] = singles[i];
        return doubles;
    }

    /// <summary>float32 values as F16 or BF16 bytes (little-endian).</summary>
    public static byte[] EncodeHalves(ReadOnlySpan<float> values, SafeTensorsDType dtype)
    {
        var bytes = new byte[2 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            ushort bits = dtype == SafeTensorsDType.BF16 ? SingleToBFloat16(values[i]) : SingleToHalf(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i, 2), bits);
        }
        return bytes;
    }

    /// <summary>True for the integer dtypes (BOOL excluded).</summary>
    public static bool IsInteger(SafeTensorsDType dtype) => dtype is SafeTensorsDType.U8 or SafeTensorsDType.I8
        or SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.I32 or SafeTensorsDType.U32
        or SafeTensorsDType.I64 or SafeTensorsDType.U64;

    /// <summary>True for F16, BF16, F32 and F64.</summary>
    public static bool IsFloatingPoint(SafeTensorsDType dtype) => dtype is SafeTensorsDType.F16
        or SafeTensorsDType.BF16 or SafeTensorsDType.F32 or SafeTensorsDType.F64;

    /// <summary>
    /// Element <paramref name="index"/> of an integer entry. U64 values above <see cref="long.MaxValue"/>
    /// are returned as <c>null</c> (they fit no signed type Forge uses).
    /// </summary>
    public static long? IntegerAt(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes, int index)
    {
        int size = dtype.SizeInBytes();
        var element = bytes.Slice(index * size, size);
        return dtype switch
        {
            SafeTensorsDType.U8 => element[0],
            SafeTensorsDType.I8 => (sbyte)element[0],
            SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(element),
            SafeTensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(element),
            SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(element),
            SafeTensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(element),
            SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(element),
            SafeTensorsDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(element) is var unsigned && unsigned <= long.MaxValue ? (long)unsigned : null,
            _ => throw new InvalidOperationException($"ElementCodec.IntegerAt: {dtype} is not an integer dtype"),
        };
    }
}
