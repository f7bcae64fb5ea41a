using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Forge.Kernels;

/// <summary>
/// Transposing copies for the packing routines, which must turn rows of a stored matrix into
/// columns of a packed sliver whenever the stored layout runs the other way (op(B) = Bᵀ, op(A) = A).
/// Square blocks of one Vector256 (8×8 floats, 4×4 doubles) go through registers with the classic
/// unpack / shuffle / lane-permute network, several times faster than element-by-element copies;
/// ragged blocks at the edges use masked loads, zero rows, and partial stores, so small matrices
/// (attention heads: 21 × 48) never fall back to scalar loops. Needs AVX only: callers have checked <see cref="GemmSimd.IsSupported"/>.
/// </summary>
static unsafe class GemmTranspose
{
    /// <summary>
    /// dest[p·destStride + j] = source[j·sourceStride + p] for p &lt; count, j &lt; destWidth, where
    /// lines j ≥ <paramref name="lines"/> read as zero: source line j becomes column j of dest, and
    /// the columns past the last line are padded. destWidth must be a multiple of Vector256&lt;T&gt;.Count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Lines<T>(T* source, nint sourceStride, int lines, int count, T* dest, nint destStride, int destWidth)
        where T : unmanaged
    {
        int block = Vector256<T>.Count;
        for (int j = 0; j < destWidth; j += block)
        {
            int validLines = Math.Clamp(lines - j, 0, block);
            for (int p = 0; p < count; p += block)
            {
                T* from = source + j * sourceStride + p;
                T* to = dest + p * destStride + j;
                int validCount = Math.Min(block, count - p);
                if (validLines == block && validCount == block) Block(from, sourceStride, to, destStride);
                else RaggedBlock(from, sourceStride, validLines, validCount, to, destStride);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block<T>(T* source, nint sourceStride, T* dest, nint destStride) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)source;
            nint ss = sourceStride;
            Transpose8x8(Avx.LoadVector256(s), Avx.LoadVector256(s + ss), Avx.LoadVector256(s + 2 * ss), Avx.LoadVector256(s + 3 * ss),
                Avx.LoadVector256(s + 4 * ss), Avx.LoadVector256(s + 5 * ss), Avx.LoadVector256(s + 6 * ss), Avx.LoadVector256(s + 7 * ss),
                (float*)dest, destStride, 8);
        }
        else
        {
            double* s = (double*)source;
            nint ss = sourceStride;
            Transpose4x4(Avx.LoadVector256(s), Avx.LoadVector256(s + ss), Avx.LoadVector256(s + 2 * ss), Avx.LoadVector256(s + 3 * ss),
                (double*)dest, destStride, 4);
        }
    }

    /// <summary>A block with only <paramref name="lines"/> source lines and <paramref name="count"/> elements per line.</summary>
    static void RaggedBlock<T>(T* source, nint sourceStride, int lines, int count, T* dest, nint destStride) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)source;
            var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();
            Transpose8x8(Line(s, 0), Line(s, 1), Line(s, 2), Line(s, 3), Line(s, 4), Line(s, 5), Line(s, 6), Line(s, 7),
                (float*)dest, destStride, count);

            Vector256<float> Line(float* s, int j) => j < lines ? Avx.MaskLoad(s + j * sourceStride, mask) : Vector256<float>.Zero;
        }
        else
        {
            double* s = (double*)source;
            var mask = Vector256.LessThan(Vector256<long>.Indices, Vector256.Create((long)count)).AsDouble();
            Transpose4x4(Line(s, 0), Line(s, 1), Line(s, 2), Line(s, 3), (double*)dest, destStride, count);

            Vector256<double> Line(double* s, int j) => j < lines ? Avx.MaskLoad(s + j * sourceStride, mask) : Vector256<double>.Zero;
        }
    }

    /// <summary>Writes the first <paramref name="rows"/> rows of the transpose of the 8×8 block with rows a..h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d,
        Vector256<float> e, Vector256<float> f, Vector256<float> g, Vector256<float> h, float* dest, nint ds, int rows)
    {
        // Unpack interleaves pairs of rows, shuffle gathers groups of four, and the lane permute joins
        // the low 128-bit halves (columns 0–3) and the high halves (columns 4–7).
        var ab0 = Avx.UnpackLow(a, b); var ab1 = Avx.UnpackHigh(a, b); // a0 b0 a1 b1 | a4 b4 a5 b5 ; a2 b2 a3 b3 | a6 b6 a7 b7
        var cd0 = Avx.UnpackLow(c, d); var cd1 = Avx.UnpackHigh(c, d);
        var ef0 = Avx.UnpackLow(e, f); var ef1 = Avx.UnpackHigh(e, f);
        var gh0 = Avx.UnpackLow(g, h); var gh1 = Avx.UnpackHigh(g, h);
        var abcd0 = Avx.Shuffle(ab0, cd0, 0x44); var abcd1 = Avx.Shuffle(ab0, cd0, 0xEE); // a0 b0 c0 d0 | a4 b4 c4 d4 ; a1 … | a5 …
        var abcd2 = Avx.Shuffle(ab1, cd1, 0x44); var abcd3 = Avx.Shuffle(ab1, cd1, 0xEE);
        var efgh0 = Avx.Shuffle(ef0, gh0, 0x44); var efgh1 = Avx.Shuffle(ef0, gh0, 0xEE);
        var efgh2 = Avx.Shuffle(ef1, gh1, 0x44); var efgh3 = Avx.Shuffle(ef1, gh1, 0xEE);
        Avx.Store(dest, Avx.Permute2x128(abcd0, efgh0, 0x20));
        if (rows > 1) Avx.Store(dest + ds, Avx.Permute2x128(abcd1, efgh1, 0x20));
        if (rows > 2) Avx.Store(dest + 2 * ds, Avx.Permute2x128(abcd2, efgh2, 0x20));
        if (rows > 3) Avx.Store(dest + 3 * ds, Avx.Permute2x128(abcd3, efgh3, 0x20));
        if (rows > 4) Avx.Store(dest + 4 * ds, Avx.Permute2x128(abcd0, efgh0, 0x31));
        if (rows > 5) Avx.Store(dest + 5 * ds, Avx.Permute2x128(abcd1, efgh1, 0x31));
        if (rows > 6) Avx.Store(dest + 6 * ds, Avx.Permute2x128(abcd2, efgh2, 0x31));
        if (rows > 7) Avx.Store(dest + 7 * ds, Avx.Permute2x128(abcd3, efgh3, 0x31));
    }

    /// <summary>Writes the first <paramref name="rows"/> rows of the transpose of the 4×4 block with rows a..d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose4x4(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double> d,
        double* dest, nint ds, int rows)
    {
        var ab0 = Avx.UnpackLow(a, b); var ab1 = Avx.UnpackHigh(a, b); // a0 b0 | a2 b2 ; a1 b1 | a3 b3
        var cd0 = Avx.UnpackLow(c, d); var cd1 = Avx.UnpackHigh(c, d);
        Avx.Store(dest, Avx.Permute2x128(ab0, cd0, 0x20));
        if (rows > 1) Avx.Store(dest + ds, Avx.Permute2x128(ab1, cd1, 0x20));
        if (rows > 2) Avx.Store(dest + 2 * ds, Avx.Permute2x128(ab0, cd0, 0x31));
        if (rows > 3) Avx.Store(dest + 3 * ds, Avx.Permute2x128(ab1, cd1, 0x31));
    }
}
