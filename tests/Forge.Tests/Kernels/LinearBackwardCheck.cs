using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>The check behind the <see cref="Gemm.LinearBackward{T}"/> tests: its gradients against the two dense GEMMs it replaces.</summary>
internal static class LinearBackwardCheck
{
    /// <summary>
    /// dX and dW from <see cref="Gemm.LinearBackward{T}"/> equal <see cref="Gemm.Run{T}"/>'s dY·op(W)ᵀ and Xᵀ·dY bit for bit, on
    /// <paramref name="threads"/> threads, overwriting (stale NaN never read) or accumulating onto random values; with
    /// <paramref name="eachAlone"/>, also each gradient asked for by itself.
    /// </summary>
    public static void EqualsTheDenseGemms<T>(int m, int k, int n, T[] dy, T[] x, T[] w, bool transW, bool accumulate, int threads,
        bool eachAlone = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ldw = transW ? k : n;
        T beta = accumulate ? T.One : T.Zero;
        T[] Start(int length, int seed) => accumulate ? Uniform.Values<T>(length, seed) : Enumerable.Repeat(T.NaN, length).ToArray();
        int saved = ForkJoin.Threads;
        try
        {
            ForkJoin.Threads = threads;
            var (expectedDx, expectedDw) = (Start(m * k, 4), Start(k * n, 5));
            var (actualDx, actualDw) = ((T[])expectedDx.Clone(), (T[])expectedDw.Clone());
            Gemm.Run(false, !transW, m, k, n, T.One, dy, n, w, ldw, beta, expectedDx, k);
            Gemm.Run(true, false, k, n, m, T.One, x, k, dy, n, beta, expectedDw, n);
            Gemm.LinearBackward<T>(m, k, n, dy, x, w, transW, ldw, actualDx, beta, actualDw, beta);
            Assert.That(actualDx, Is.EqualTo(expectedDx).AsCollection, "dX");
            Assert.That(actualDw, Is.EqualTo(expectedDw).AsCollection, "dW");
            if (!eachAlone) return;
            var dxAlone = Start(m * k, 4);
            Gemm.LinearBackward<T>(m, k, n, dy, x, w, transW, ldw, dxAlone, beta, default, T.Zero);
            Assert.That(dxAlone, Is.EqualTo(expectedDx).AsCollection, "dX alone");
            var dwAlone = Start(k * n, 5);
            Gemm.LinearBackward<T>(m, k, n, dy, x, w, transW, ldw, default, T.Zero, dwAlone, beta);
            Assert.That(dwAlone, Is.EqualTo(expectedDw).AsCollection, "dW alone");
        }
        finally { ForkJoin.Threads = saved; }
    }
}
