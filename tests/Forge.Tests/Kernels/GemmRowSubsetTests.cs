using System.Numerics;
using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.LinearBackward{T}"/> when many rows of dY are zero (<see cref="GemmRowSubset"/>: only the others
/// are multiplied) against the two dense <see cref="Gemm.Run{T}"/> calls, bit for bit: the sorting task's
/// pattern (11 of every 21 rows), random rows, whole k blocks of zeros (the first, a middle one, the last),
/// −0 and NaN in dY, overwrite (stale NaN never read) and accumulate, a transposed weight, one and two
/// threads, shapes whose depth is cut into 2–4 k blocks; an infinity in a skipped row of X must still make
/// dW NaN. And when the path is taken at all.
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public unsafe class GemmRowSubsetTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // m, k, n: a sorting micro-batch's unembedding (672 rows = 3 k blocks of 224), awkward sizes, k blocks of 129 + 128.
    static readonly int[][] Shapes = [[672, 96, 52], [1000, 33, 7], [257, 17, 19], [600, 5, 300], [13, 3, 2], [2047, 16, 16]];

    public enum Zeros { SortingMask, RandomHalf, AllButOne, FirstBlock, MiddleBlock, LastBlock, NegativeZeroAndNaN }

    /// <summary>dY (m, n) with the rows of <paramref name="zeros"/> zeroed.</summary>
    static T[] Gradient(int m, int n, Zeros zeros)
    {
        var dy = Uniform.Values<T>(m * n, seed: 1);
        var random = new Random(2);
        int block = GemmBlocked.KBlock(m);
        for (int i = 0; i < m; i++)
        {
            bool zero = zeros switch
            {
                Zeros.SortingMask => i % 21 is < 10 or 20,
                Zeros.RandomHalf => random.Next(2) == 0,
                Zeros.AllButOne => i != m / 3,
                Zeros.FirstBlock => i < block || i % 3 == 0,
                Zeros.MiddleBlock => (i >= block && i < 2 * block) || i % 3 == 0,
                Zeros.LastBlock => i >= ((m + block - 1) / block - 1) * block || i % 3 == 0,
                _ => i % 2 == 0,
            };
            if (!zero) continue;
            var row = dy.AsSpan(i * n, n);
            if (zeros == Zeros.NegativeZeroAndNaN && i % 4 == 0) row.Fill(-T.Zero);
            else row.Clear();
            if (zeros == Zeros.NegativeZeroAndNaN && i == 6) row[n - 1] = T.NaN;   // a NaN row is not a zero row
        }
        return dy;
    }

    [Test]
    public void EqualsTheDenseGemms([ValueSource(nameof(Shapes))] int[] mkn, [Values] Zeros zeros, [Values] bool transW,
        [Values] bool accumulate, [Values(1, 2)] int threads)
    {
        int m = mkn[0], k = mkn[1], n = mkn[2];
        LinearBackwardCheck.EqualsTheDenseGemms(m, k, n, Gradient(m, n, zeros), Uniform.Values<T>(m * k, seed: 3), Uniform.Values<T>(k * n, seed: 4),
            transW, accumulate, threads, eachAlone: true);
    }

    [Test]
    public void InfinityInASkippedRowOfX_StillMakesDwNaN()
    {
        const int m = 672, k = 96, n = 52;
        var dy = Gradient(m, n, Zeros.SortingMask);
        var x = Uniform.Values<T>(m * k, seed: 7);
        x[0 * k + 5] = T.PositiveInfinity;   // row 0 is a zero row of dY: 0·∞ = NaN in the dense product
        var w = Uniform.Values<T>(k * n, seed: 8);
        var (dx, dw) = (new T[m * k], new T[k * n]);
        Gemm.LinearBackward<T>(m, k, n, dy, x, w, false, n, dx, T.Zero, dw, T.Zero);
        var expectedDw = new T[k * n];
        Gemm.Run(true, false, k, n, m, T.One, x, k, dy, n, T.Zero, expectedDw, n);
        Assert.That(T.IsNaN(dw[5 * n]), Is.True, "dW row 5 is NaN, as the dense product makes it");
        Assert.That(dw, Is.EqualTo(expectedDw).AsCollection);
    }

    [Test]
    public void TakenOnlyWhereItPays()
    {
        bool Taken(int m, int k, int n, Zeros? zeros)
        {
            var dy = zeros is null ? Uniform.Values<T>(m * n, seed: 9) : Gradient(m, n, zeros.Value);
            var (x, w, dx, dw) = (Uniform.Values<T>(m * k, 10), Uniform.Values<T>(k * n, 11), new T[m * k], new T[k * n]);
            fixed (T* pDy = dy, pX = x, pW = w, pDx = dx, pDw = dw)
                return GemmRowSubset.TryLinearBackward(m, k, n, pDy, pX, pW, false, n, pDx, T.Zero, pDw, T.Zero);
        }
        Assert.Multiple(() =>
        {
            Assert.That(Taken(672, 96, 52, Zeros.SortingMask), Is.True, "the sorting mask");
            Assert.That(Taken(672, 96, 52, null), Is.False, "no zero rows");
            Assert.That(Taken(4096, 16, 16, Zeros.SortingMask), Is.False, "dW split along k: another order");
        });
    }
}
