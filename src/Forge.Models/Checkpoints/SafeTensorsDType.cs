namespace Forge.Models.Checkpoints;

/// <summary>
/// Element types of the safetensors format. The enum names are exactly the strings written in the
/// header's <c>"dtype"</c> field. The sub-byte types of the spec (F4, F6_*) are not supported.
/// </summary>
public enum SafeTensorsDType
{
    BOOL,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    F8_E8M0,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
    /// <summary>Complex number: two F32 (real, imaginary).</summary>
    C64,
}

/// <summary>Sizes and header names of <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8
            or SafeTensorsDType.F8_E5M2 or SafeTensorsDType.F8_E4M3 or SafeTensorsDType.F8_E8M0 => 1,
        SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I32 or SafeTensorsDType.U32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.I64 or SafeTensorsDType.U64 or SafeTensorsDType.F64 or SafeTensorsDType.C64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "SafeTensorsDTypes.SizeInBytes: not a safetensors dtype"),
    };

    /// <summary>The string written in the header (e.g. <c>"F32"</c>).</summary>
    public static string HeaderName(this SafeTensorsDType dtype)
    {
        SizeInBytes(dtype); // rejects values outside the enum
        return dtype.ToString();
    }

    /// <summary>
    /// Parses a header dtype string. Exact and case-sensitive, as in the spec: unlike
    /// <see cref="Enum.TryParse{TEnum}(string, out TEnum)"/> it accepts neither numbers nor other casings.
    /// </summary>
    public static bool TryParse(string name, out SafeTensorsDType dtype)
    {
        foreach (var candidate in Enum.GetValues<SafeTensorsDType>())
        {
            if (candidate.ToString() == name)
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>Dtypes named by the spec that Forge cannot hold (elements smaller than a byte).</summary>
    internal static bool IsKnownButUnsupported(string name) => name is "F4" or "F6_E2M3" or "F6_E3M2";
}
