using System.Numerics;
using System.Runtime.CompilerServices;

namespace Forge.Kernels;

/// <summary>
/// The microkernel the blocked GEMM drives, chosen once for the CPU: <see cref="GemmMicrokernelAvx512"/>
/// (14 × 2 vectors of 512 bits) where AVX-512 runs, else <see cref="GemmMicrokernelAvx2"/> (6 × 2 vectors of
/// 256 bits). The drivers (<see cref="GemmBlocked"/>, <see cref="GemmPacking"/>, <see cref="GemmParallel"/>)
/// read the tile shape from here and never name either kernel. Both compute each element of C with the same
/// operations in the same order, so which one runs changes speed, not bits.
/// </summary>
static unsafe class GemmMicrokernel
{
    // GemmSimd.Wide is made of hardware-support checks the JIT answers while compiling, so every member below
    // compiles to a constant or to one kernel's call: no test is left at run time, even in code compiled before
    // any class initialiser ran (AggressiveOptimization methods).
    static bool Wide => GemmSimd.Wide;

    /// <summary>Rows of C per tile (MR).</summary>
    public static int Rows => Wide ? GemmMicrokernelAvx512.Rows : GemmMicrokernelAvx2.Rows;

    /// <summary>Height of the smaller kernel that serves short edge tiles.</summary>
    public static int HalfRows => Wide ? GemmMicrokernelAvx512.HalfRows : GemmMicrokernelAvx2.HalfRows;

    /// <summary>Columns of C per tile (NR): two vectors; also the width of a packed B sliver.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Columns<T>() => Wide ? GemmMicrokernelAvx512.Columns<T>() : GemmMicrokernelAvx2.Columns<T>();

    /// <summary>One tile of C: see <see cref="GemmMicrokernelAvx512.Run{T}"/> for the contract (rows ≤ <see cref="Rows"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<T>(int kc, T* a, nint aRowStride, nint aStepStride, T* b,
        T* c, nint ldc, int firstRow, int rows, int cols, T alpha, T beta, T* bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Wide) GemmMicrokernelAvx512.Run(kc, a, aRowStride, aStepStride, b, c, ldc, firstRow, rows, cols, alpha, beta, bias);
        else GemmMicrokernelAvx2.Run(kc, a, aRowStride, aStepStride, b, c, ldc, firstRow, rows, cols, alpha, beta, bias);
    }
}
