using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Forge.Kernels.GemmSimd;

namespace Forge.Kernels;

/// <summary>
/// The AVX-512 register-blocked inner kernel of <see cref="Gemm"/> (chosen by <see cref="GemmMicrokernel"/>): one <see cref="Rows"/> × (2 vectors) tile
/// of C, i.e. 14×32 floats or 14×16 doubles, held in 28 AVX-512 accumulators while the loop runs
/// down k. Each step loads two vectors of B and broadcasts 14 values of A, so 28 FMAs share 16 loads
/// and the FMA pipes stay full (measured ≈ 265 GFLOP/s float in L1 on the Zen 5 test machine, its peak).
/// <para>
/// AVX-512 where the CPU has it: the 32 vector registers are what make a 14×2 tile possible (AVX2's 16
/// allow 6×2: <see cref="GemmMicrokernelAvx2"/>), and the Zen 5 executes 512-bit FMAs at full width, doubling the peak.
/// </para>
/// A is read through two strides, so the same kernel reads a packed sliver, a transposed A in place,
/// or row-major A in place; B is always a packed sliver (kc rows of 2 vectors). A 7-row variant of
/// the same loop serves short edge tiles (attention heads of 21 rows are 14 + 7).
/// </summary>
static unsafe class GemmMicrokernelAvx512
{
    /// <summary>Rows of C per tile (MR): 28 accumulators + 2 B vectors + 1 broadcast = 31 of 32 registers.</summary>
    public const int Rows = 14;

    /// <summary>Columns of C per tile (NR): two vectors.</summary>
    public static int Columns<T>() => 2 * Vector512<T>.Count;

    /// <summary>
    /// C[firstRow..rows, 0..cols] = alpha · A·B + beta · C for one tile, where A is (rows, kc) with
    /// element (i, p) at a[i·aRowStride + p·aStepStride], B is a packed (kc, 2W) sliver, and C (row 0
    /// of the tile at <paramref name="c"/>) is row-major with stride ldc. The kernel computes 7 or 14
    /// rows (whichever covers <paramref name="rows"/>), so that many rows of A must exist. Rows before
    /// <paramref name="firstRow"/> are computed but not stored: an edge tile can overlap the tile above
    /// it instead of packing a zero-padded copy of A. beta == 0 writes C without reading it. A non-null
    /// <paramref name="bias"/> (the tile's first column of a bias row; only with beta == 0) makes it
    /// C = fma(alpha, A·B, bias): a linear layer's bias added as C is stored, not in a pass of its own.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int kc, T* a, nint aRowStride, nint aStepStride, T* b,
        T* c, nint ldc, int firstRow, int rows, int cols, T alpha, T beta, T* bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The tile goes through L1 (28 stores, 28 loads: noise next to 14·kc FMAs) so that the k loop
        // has nothing but accumulators live: with alpha, beta or C pointers also held in vector
        // registers the JIT runs out of its 32 and spills accumulators inside the loop.
        Vector512<T>* tile = stackalloc Vector512<T>[2 * Rows];
        if (rows <= HalfRows) Accumulate<T, Half>(kc, a, aRowStride, aStepStride, b, tile);
        else Accumulate<T, Full>(kc, a, aRowStride, aStepStride, b, tile);
        if (bias != null) new Epilogue<T>(alpha, beta).StoreWithBias(tile, bias, c, ldc, firstRow, rows, cols);
        else new Epilogue<T>(alpha, beta).Store(tile, c, ldc, firstRow, rows, cols);
    }

    /// <summary>Height of the smaller kernel, for edge tiles: half the FMAs of a full tile.</summary>
    public const int HalfRows = Rows / 2;

    /// <summary>Kernel heights as types: each instantiation compiles to its own loop, with no per-step branch.</summary>
    interface IHeight { static abstract bool IsFull { get; } }
    struct Full : IHeight { public static bool IsFull => true; }
    struct Half : IHeight { public static bool IsFull => false; }

    /// <summary>
    /// tile (row i = tile[2i], tile[2i+1]) = A·B over 14 rows, or the first 7 for <see cref="Half"/>:
    /// the register-blocked k loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Accumulate<T, THeight>(int kc, T* a, nint aRowStride, nint aStepStride, T* b, Vector512<T>* tile)
        where T : unmanaged, IFloatingPointIeee754<T>
        where THeight : struct, IHeight
    {
        int width = Vector512<T>.Count;
        nint rs = aRowStride;
        // Plain locals, not an array or struct of rows: the JIT keeps each in its own register only then.
        Vector512<T> l0 = default, r0 = default, l1 = default, r1 = default, l2 = default, r2 = default,
            l3 = default, r3 = default, l4 = default, r4 = default, l5 = default, r5 = default,
            l6 = default, r6 = default, l7 = default, r7 = default, l8 = default, r8 = default,
            l9 = default, r9 = default, l10 = default, r10 = default, l11 = default, r11 = default,
            l12 = default, r12 = default, l13 = default, r13 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + width);
            var x = Vector512.Create(a[0]); l0 = Fma(x, b0, l0); r0 = Fma(x, b1, r0);
            x = Vector512.Create(a[rs]); l1 = Fma(x, b0, l1); r1 = Fma(x, b1, r1);
            x = Vector512.Create(a[2 * rs]); l2 = Fma(x, b0, l2); r2 = Fma(x, b1, r2);
            x = Vector512.Create(a[3 * rs]); l3 = Fma(x, b0, l3); r3 = Fma(x, b1, r3);
            x = Vector512.Create(a[4 * rs]); l4 = Fma(x, b0, l4); r4 = Fma(x, b1, r4);
            x = Vector512.Create(a[5 * rs]); l5 = Fma(x, b0, l5); r5 = Fma(x, b1, r5);
            x = Vector512.Create(a[6 * rs]); l6 = Fma(x, b0, l6); r6 = Fma(x, b1, r6);
            if (THeight.IsFull)
            {
                x = Vector512.Create(a[7 * rs]); l7 = Fma(x, b0, l7); r7 = Fma(x, b1, r7);
                x = Vector512.Create(a[8 * rs]); l8 = Fma(x, b0, l8); r8 = Fma(x, b1, r8);
                x = Vector512.Create(a[9 * rs]); l9 = Fma(x, b0, l9); r9 = Fma(x, b1, r9);
                x = Vector512.Create(a[10 * rs]); l10 = Fma(x, b0, l10); r10 = Fma(x, b1, r10);
                x = Vector512.Create(a[11 * rs]); l11 = Fma(x, b0, l11); r11 = Fma(x, b1, r11);
                x = Vector512.Create(a[12 * rs]); l12 = Fma(x, b0, l12); r12 = Fma(x, b1, r12);
                x = Vector512.Create(a[13 * rs]); l13 = Fma(x, b0, l13); r13 = Fma(x, b1, r13);
            }
            a += aStepStride;
            b += 2 * width;
        }

        tile[0] = l0; tile[1] = r0; tile[2] = l1; tile[3] = r1; tile[4] = l2; tile[5] = r2; tile[6] = l3; tile[7] = r3;
        tile[8] = l4; tile[9] = r4; tile[10] = l5; tile[11] = r5; tile[12] = l6; tile[13] = r6;
        if (THeight.IsFull)
        {
            tile[14] = l7; tile[15] = r7; tile[16] = l8; tile[17] = r8; tile[18] = l9; tile[19] = r9;
            tile[20] = l10; tile[21] = r10; tile[22] = l11; tile[23] = r11; tile[24] = l12; tile[25] = r12;
            tile[26] = l13; tile[27] = r13;
        }
    }

    /// <summary>
    /// Writes accumulators to C as alpha·acc (beta = 0, C not read) or fma(alpha, acc, beta·C).
    /// Full and masked stores use the same operations, so an element's value never depends on
    /// whether it landed in an edge tile.
    /// </summary>
    readonly struct Epilogue<T>(T alpha, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly Vector512<T> _alpha = Vector512.Create(alpha);
        readonly Vector512<T> _beta = Vector512.Create(beta);
        readonly bool _readC = beta != T.Zero;

        /// <summary>Writes rows [firstRow, rows) and the first <paramref name="cols"/> columns of a parked tile to C.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<T>* tile, T* c, nint ldc, int firstRow, int rows, int cols)
        {
            int width = Vector512<T>.Count;
            tile += 2 * firstRow;
            c += firstRow * ldc;
            rows -= firstRow;
            if (cols == 2 * width && _readC)
            {
                for (int i = 0; i < rows; i++, c += ldc)
                {
                    Fma(_alpha, tile[2 * i], _beta * Vector512.Load(c)).Store(c);
                    Fma(_alpha, tile[2 * i + 1], _beta * Vector512.Load(c + width)).Store(c + width);
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
            var leftMask = GemmSimd.FirstLanes<T>(cols);
            var rightMask = GemmSimd.FirstLanes<T>(cols - width);
            for (int i = 0; i < rows; i++, c += ldc)
            {
                StoreMasked(c, tile[2 * i], leftMask);
                if (cols > width) StoreMasked(c + width, tile[2 * i + 1], rightMask);
            }
        }

        /// <summary>As <see cref="Store"/> with beta = 0, plus the bias row: C = fma(alpha, acc, bias[column]).</summary>
        public void StoreWithBias(Vector512<T>* tile, T* bias, T* c, nint ldc, int firstRow, int rows, int cols)
        {
            int width = Vector512<T>.Count;
            tile += 2 * firstRow;
            c += firstRow * ldc;
            rows -= firstRow;
            var leftMask = GemmSimd.FirstLanes<T>(cols);
            var rightMask = GemmSimd.FirstLanes<T>(cols - width);
            // Masked loads of the bias: a ragged tile's bias row ends where C's row does.
            Vector512<T> left = GemmSimd.LoadMasked(bias, leftMask);
            Vector512<T> right = cols > width ? GemmSimd.LoadMasked(bias + width, rightMask) : default;
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
        void StoreMasked(T* c, Vector512<T> acc, Vector512<T> mask)
        {
            var result = _readC ? Fma(_alpha, acc, _beta * GemmSimd.LoadMasked(c, mask)) : _alpha * acc;
            GemmSimd.StoreMasked(c, mask, result);
        }
    }
}
