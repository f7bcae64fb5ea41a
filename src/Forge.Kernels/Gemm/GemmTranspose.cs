using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// Transposing copies for the packing routines, which must turn rows of a stored matrix into
/// columns of a packed sliver whenever the stored layout runs the other way (op(B) = Bᵀ, op(A) = A).
/// Square blocks of one Vector256 (8×8 floats, 4×4 doubles) go through registers with the classic
/// unpack / shuffle / lane-permute network, several times faster than element-by-element copies.
/// </summary>
static unsafe class GemmTranspose
{
    /// <summary>
    /// dest[p·destStride + j] = source[j·sourceStride + p] for j &lt; lines, p &lt; count: source line j
    /// becomes column j of dest.
    /// </summary>
    public static void Lines<T>(T* source, nint sourceStride, int lines, int count, T* dest, nint destStride)
        where T : unmanaged
    {
        int block = Vector256<T>.Count;
        bool vectorized = Avx.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));
        int blockedLines = vectorized ? lines / block * block : 0;
        int blockedCount = vectorized ? count / block * block : 0;
        for (int j = 0; j < blockedLines; j += block)
        {
            for (int p = 0; p < blockedCount; p += block)
            {
                Block(source + j * sourceStride + p, sourceStride, dest + p * destStride + j, destStride);
            }
            Scalar(source + j * sourceStride, sourceStride, block, blockedCount, count, dest + j, destStride);
        }
        Scalar(source + blockedLines * sourceStride, sourceStride, lines - blockedLines, 0, count, dest + blockedLines, destStride);
    }

    /// <summary>The element-by-element remainder: lines [0, lines), positions [from, to).</summary>
    static void Scalar<T>(T* source, nint sourceStride, int lines, int from, int to, T* dest, nint destStride)
        where T : unmanaged
    {
        for (int j = 0; j < lines; j++)
        {
            T* line = source + j * sourceStride;
            for (int p = from; p < to; p++) dest[p * destStride + j] = line[p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block<T>(T* source, nint sourceStride, T* dest, nint destStride) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Block8x8((float*)source, sourceStride, (float*)dest, destStride);
        else Block4x4((double*)source, sourceStride, (double*)dest, destStride);
    }

    /// <summary>Transposes an 8×8 float block: 8 loads, 24 shuffles, 8 stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block8x8(float* s, nint ss, float* d, nint ds)
    {
        // Rows a..h. Unpack interleaves pairs of rows, shuffle gathers groups of four, and the lane
        // permute joins the low 128-bit halves (columns 0–3) and the high halves (columns 4–7).
        var a = Avx.LoadVector256(s); var b = Avx.LoadVector256(s + ss);
        var c = Avx.LoadVector256(s + 2 * ss); var e = Avx.LoadVector256(s + 4 * ss);
        var dd = Avx.LoadVector256(s + 3 * ss); var f = Avx.LoadVector256(s + 5 * ss);
        var g = Avx.LoadVector256(s + 6 * ss); var h = Avx.LoadVector256(s + 7 * ss);
        var ab0 = Avx.UnpackLow(a, b); var ab1 = Avx.UnpackHigh(a, b);   // a0 b0 a1 b1 | a4 b4 a5 b5 ; a2 b2 a3 b3 | …
        var cd0 = Avx.UnpackLow(c, dd); var cd1 = Avx.UnpackHigh(c, dd);
        var ef0 = Avx.UnpackLow(e, f); var ef1 = Avx.UnpackHigh(e, f);
        var gh0 = Avx.UnpackLow(g, h); var gh1 = Avx.UnpackHigh(g, h);
        var abcd0 = Avx.Shuffle(ab0, cd0, 0x44); var abcd1 = Avx.Shuffle(ab0, cd0, 0xEE); // a0 b0 c0 d0 | a4 b4 c4 d4 ; …1 | …5
        var abcd2 = Avx.Shuffle(ab1, cd1, 0x44); var abcd3 = Avx.Shuffle(ab1, cd1, 0xEE);
        var efgh0 = Avx.Shuffle(ef0, gh0, 0x44); var efgh1 = Avx.Shuffle(ef0, gh0, 0xEE);
        var efgh2 = Avx.Shuffle(ef1, gh1, 0x44); var efgh3 = Avx.Shuffle(ef1, gh1, 0xEE);
        Avx.Store(d, Avx.Permute2x128(abcd0, efgh0, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(abcd1, efgh1, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(abcd2, efgh2, 0x20));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(abcd3, efgh3, 0x20));
        Avx.Store(d + 4 * ds, Avx.Permute2x128(abcd0, efgh0, 0x31));
        Avx.Store(d + 5 * ds, Avx.Permute2x128(abcd1, efgh1, 0x31));
        Avx.Store(d + 6 * ds, Avx.Permute2x128(abcd2, efgh2, 0x31));
        Avx.Store(d + 7 * ds, Avx.Permute2x128(abcd3, efgh3, 0x31));
    }

    /// <summary>Transposes a 4×4 double block: 4 loads, 8 shuffles, 4 stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x4(double* s, nint ss, double* d, nint ds)
    {
        var a = Avx.LoadVector256(s); var b = Avx.LoadVector256(s + ss);
        var c = Avx.LoadVector256(s + 2 * ss); var e = Avx.LoadVector256(s + 3 * ss);
        var ab0 = Avx.UnpackLow(a, b); var ab1 = Avx.UnpackHigh(a, b); // a0 b0 | a2 b2 ; a1 b1 | a3 b3
        var ce0 = Avx.UnpackLow(c, e); var ce1 = Avx.UnpackHigh(c, e);
        Avx.Store(d, Avx.Permute2x128(ab0, ce0, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(ab1, ce1, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(ab0, ce0, 0x31));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(ab1, ce1, 0x31));
    }
}
