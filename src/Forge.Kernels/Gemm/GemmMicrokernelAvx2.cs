using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Forge.Kernels.GemmSimd;

namespace Forge.Kernels;

/// <summary>
/// The AVX2 register-blocked inner kernel of <see cref="Gemm"/>, for CPUs without AVX-512 (Haswell to
/// Alder Lake, Zen 1–3): one 6 × (2 vectors) tile of C, i.e. 6×16 floats or 6×8 doubles, held in 12
/// accumulators while the loop runs down k. Each step loads two vectors of B and broadcasts 6 values of
/// A: 12 FMAs share 8 loads, and 12 + 2 + 1 = 15 of the 16 ymm registers are live (the classic Haswell
/// shape; 8×2 or 4×3 would need more registers than there are and the JIT would spill accumulators).
/// <para>
/// Same contract and same arithmetic as <see cref="GemmMicrokernelAvx512"/>: every element of C is one
/// FMA chain over p = 0 … kc−1 starting from zero, then stored as alpha·acc, fma(alpha, acc, beta·C) or
/// fma(alpha, acc, bias). Lanes never mix, so the vector width and tile shape decide only which
/// elements are computed together, never a value: a product gives the same bits on an AVX2 and an
/// AVX-512 machine (given the same k blocks, which <see cref="GemmBlocked.KBlock"/> takes from k alone).
/// </para>
/// </summary>
static unsafe class GemmMicrokernelAvx2
{
    /// <summary>Rows of C per tile (MR): 12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers.</summary>
    public const int Rows = 6;

    /// <summary>Height of the smaller kernel, for edge tiles.</summary>
    public const int HalfRows = Rows / 2;

    /// <summary>Columns of C per tile (NR): two vectors.</summary>
    public static int Columns<T>() => 2 * Vector256<T>.Count;

    /// <summary>As <see cref="GemmMicrokernelAvx512.Run{T}"/>, for a tile of 3 or 6 rows and two 256-bit vectors.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int kc, T* a, nint aRowStride, nint aStepStride, T* b,
        T* c, nint ldc, int firstRow, int rows, int cols, T alpha, T beta, T* bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The common case — a whole tile, alpha = 1, beta 0 or 1, no bias — stores straight from the accumulators:
        // alpha·acc = acc and fma(1, acc, 1·C) = acc + C exactly, so the bits are the epilogue's.
        if (alpha == T.One && bias == null && firstRow == 0 && rows == Rows && cols == 2 * Vector256<T>.Count)
        {
            if (beta == T.Zero)
            {
                Accumulate<T, Full, Overwrite>(kc, a, aRowStride, aStepStride, b, null, c, ldc);
                return;
            }
            if (beta == T.One)
            {
                Accumulate<T, Full, AddTo>(kc, a, aRowStride, aStepStride, b, null, c, ldc);
                return;
            }
        }
        // Otherwise parked in L1 as in the AVX-512 kernel: the k loop then has nothing but accumulators live.
        Vector256<T>* tile = stackalloc Vector256<T>[2 * Rows];
        if (rows <= HalfRows) Accumulate<T, Half, Park>(kc, a, aRowStride, aStepStride, b, tile, null, 0);
        else Accumulate<T, Full, Park>(kc, a, aRowStride, aStepStride, b, tile, null, 0);
        if (bias != null) new Epilogue<T>(alpha, beta).StoreWithBias(tile, bias, c, ldc, firstRow, rows, cols);
        else new Epilogue<T>(alpha, beta).Store(tile, c, ldc, firstRow, rows, cols);
    }

    interface IHeight { static abstract bool IsFull { get; } }
    struct Full : IHeight { public static bool IsFull => true; }
    struct Half : IHeight { public static bool IsFull => false; }

    /// <summary>Where a tile's accumulators go: parked in the L1 tile for the epilogue, or (a whole tile, alpha = 1) written over C or added to it.</summary>
    interface ISink { static abstract bool Parks { get; } static abstract bool Adds { get; } }
    struct Park : ISink { public static bool Parks => true; public static bool Adds => false; }
    struct Overwrite : ISink { public static bool Parks => false; public static bool Adds => false; }
    struct AddTo : ISink { public static bool Parks => false; public static bool Adds => true; }

    /// <summary>
    /// A·B over 6 rows, or the first 3 for <see cref="Half"/>: the register-blocked k loop. With <see cref="Park"/> the
    /// result goes to tile (row i = tile[2i], tile[2i+1]); otherwise (6 rows only) straight to C's rows, ldc apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Accumulate<T, THeight, TSink>(int kc, T* a, nint aRowStride, nint aStepStride, T* b, Vector256<T>* tile, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        where THeight : struct, IHeight
        where TSink : struct, ISink
    {
        int width = Vector256<T>.Count;
        nint rs = aRowStride;
        Vector256<T> l0 = default, r0 = default, l1 = default, r1 = default, l2 = default, r2 = default,
            l3 = default, r3 = default, l4 = default, r4 = default, l5 = default, r5 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + width);
            var x = Vector256.Create(a[0]); l0 = Fma(x, b0, l0); r0 = Fma(x, b1, r0);
            x = Vector256.Create(a[rs]); l1 = Fma(x, b0, l1); r1 = Fma(x, b1, r1);
            x = Vector256.Create(a[2 * rs]); l2 = Fma(x, b0, l2); r2 = Fma(x, b1, r2);
            if (THeight.IsFull)
            {
                x = Vector256.Create(a[3 * rs]); l3 = Fma(x, b0, l3); r3 = Fma(x, b1, r3);
                x = Vector256.Create(a[4 * rs]); l4 = Fma(x, b0, l4); r4 = Fma(x, b1, r4);
                x = Vector256.Create(a[5 * rs]); l5 = Fma(x, b0, l5); r5 = Fma(x, b1, r5);
            }
            a += aStepStride;
            b += 2 * width;
        }

        if (TSink.Parks)
        {
            tile[0] = l0; tile[1] = r0; tile[2] = l1; tile[3] = r1; tile[4] = l2; tile[5] = r2;
            if (THeight.IsFull)
            {
                tile[6] = l3; tile[7] = r3; tile[8] = l4; tile[9] = r4; tile[10] = l5; tile[11] = r5;
            }
            return;
        }
        Put<T, TSink>(c, l0, r0); c += ldc;
        Put<T, TSink>(c, l1, r1); c += ldc;
        Put<T, TSink>(c, l2, r2); c += ldc;
        Put<T, TSink>(c, l3, r3); c += ldc;
        Put<T, TSink>(c, l4, r4); c += ldc;
        Put<T, TSink>(c, l5, r5);
    }

    /// <summary>One row of a whole tile into C: acc, or acc + C with <see cref="AddTo"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put<T, TSink>(T* c, Vector256<T> left, Vector256<T> right)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSink : struct, ISink
    {
        if (TSink.Adds)
        {
            left += Vector256.Load(c);
            right += Vector256.Load(c + Vector256<T>.Count);
        }
        left.Store(c);
        right.Store(c + Vector256<T>.Count);
    }

    /// <summary>The AVX-512 kernel's epilogue in 256-bit vectors: the same operations per element, full or masked.</summary>
    readonly struct Epilogue<T>(T alpha, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly Vector256<T> _alpha = Vector256.Create(alpha);
        readonly Vector256<T> _beta = Vector256.Create(beta);
        readonly bool _readC = beta != T.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<T>* tile, T* c, nint ldc, int firstRow, int rows, int cols)
        {
            int width = Vector256<T>.Count;
            tile += 2 * firstRow;
            c += firstRow * ldc;
            rows -= firstRow;
            if (cols == 2 * width && _readC)
            {
                for (int i = 0; i < rows; i++, c += ldc)
                {
                    Fma(_alpha, tile[2 * i], _beta * Vector256.Load(c)).Store(c);
                    Fma(_alpha, tile[2 * i + 1], _beta * Vector256.Load(c + width)).Store(c + width);
                }
                return;
            }
            if (cols == 2 * width)
            {
                for (int i = 0; i < rows; i++, c += ldc)
                {
                    (_alpha * tile[2 * i]).Store(c);
                    (_alpha * tile[2 * i + 1]).Store(c + width);
                }
                return;
            }
            var leftMask = FirstLanes256<T>(cols);
            var rightMask = FirstLanes256<T>(cols - width);
            for (int i = 0; i < rows; i++, c += ldc)
            {
                StoreMasked(c, tile[2 * i], leftMask);
                if (cols > width) StoreMasked(c + width, tile[2 * i + 1], rightMask);
            }
        }

        public void StoreWithBias(Vector256<T>* tile, T* bias, T* c, nint ldc, int firstRow, int rows, int cols)
        {
            int width = Vector256<T>.Count;
            tile += 2 * firstRow;
            c += firstRow * ldc;
            rows -= firstRow;
            var leftMask = FirstLanes256<T>(cols);
            var rightMask = FirstLanes256<T>(cols - width);
            Vector256<T> left = LoadMasked(bias, leftMask);
            Vector256<T> right = cols > width ? LoadMasked(bias + width, rightMask) : default;
            if (cols == 2 * width)
            {
                for (int i = 0; i < rows; i++, c += ldc)
                {
                    Fma(_alpha, tile[2 * i], left).Store(c);
                    Fma(_alpha, tile[2 * i + 1], right).Store(c + width);
                }
                return;
            }
            for (int i = 0; i < rows; i++, c += ldc)
            {
                GemmSimd.StoreMasked(c, leftMask, Fma(_alpha, tile[2 * i], left));
                if (cols > width) GemmSimd.StoreMasked(c + width, rightMask, Fma(_alpha, tile[2 * i + 1], right));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void StoreMasked(T* c, Vector256<T> acc, Vector256<T> mask)
        {
            var result = _readC ? Fma(_alpha, acc, _beta * LoadMasked(c, mask)) : _alpha * acc;
            GemmSimd.StoreMasked(c, mask, result);
        }
    }
}
