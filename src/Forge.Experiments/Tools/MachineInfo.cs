using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Forge.Experiments.Tools;

/// <summary>What the machine offers the engine: CPU model, SIMD widths, cores, devices.</summary>
public static class MachineInfo
{
    /// <summary>The CPU model name from /proc/cpuinfo, or the architecture when that is unreadable.</summary>
    public static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (!line.StartsWith("model name", StringComparison.Ordinal)) continue;
                    int colon = line.IndexOf(':');
                    if (colon >= 0) return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>
    /// The hardware-accelerated vector widths, e.g. "Vector128 Vector256 Vector512 (Vector&lt;float&gt; = 16 lanes)".
    /// </summary>
    public static string VectorWidths()
    {
        var widths = new List<string>();
        if (Vector128.IsHardwareAccelerated) widths.Add("Vector128");
        if (Vector256.IsHardwareAccelerated) widths.Add("Vector256");
        if (Vector512.IsHardwareAccelerated) widths.Add("Vector512");
        string accelerated = widths.Count == 0 ? "none accelerated" : string.Join(" ", widths);
        return $"{accelerated} (Vector<float> = {Vector<float>.Count} lanes)";
    }

    /// <summary>The x86 instruction-set extensions the kernels use, as supported here.</summary>
    public static string InstructionSets()
    {
        var sets = new List<string>();
        if (Avx2.IsSupported) sets.Add("AVX2");
        if (Fma.IsSupported) sets.Add("FMA");
        if (Avx512F.IsSupported) sets.Add("AVX-512F");
        if (Avx512BW.IsSupported) sets.Add("AVX-512BW");
        if (Avx512DQ.IsSupported) sets.Add("AVX-512DQ");
        if (Avx512F.VL.IsSupported) sets.Add("AVX-512VL");
        if (AdvSimd.IsSupported) sets.Add("AdvSIMD");
        return sets.Count == 0 ? "none" : string.Join(" ", sets);
    }
}
