using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.RunWithBias{T}"/> (a linear layer's forward: the bias added as C is stored) against the
/// two-pass form it replaces — bias rows written into C, then <see cref="Gemm.Run{T}"/> with beta = 1 — bit
/// for bit, and against <see cref="GemmReference"/>: edge tiles, several k blocks, column panels, the split-k
/// shapes (which take the two-pass path), k = 0, alpha = 0, one and two threads, C full of NaN beforehand.
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class GemmBiasTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly int[][] Shapes =
    [
        [1, 1, 1], [3, 5, 7], [14, 32, 256], [15, 33, 300], [341, 20, 30], [9, 530, 11], [300, 47, 513],
        [2048, 52, 96], [37, 1, 50], [1, 45, 17],
        [8, 8, 4096],    // split along k
        [5, 3, 0],       // k = 0: C = bias
    ];

    [Test]
    public void EqualsBiasRowsThenBetaOne([ValueSource(nameof(Shapes))] int[] mnk, [Values] bool transA, [Values] bool transB,
        [Values(1, 2)] int threads)
    {
        int m = mnk[0], n = mnk[1], k = mnk[2];
        int lda = transA ? m : k, ldb = transB ? k : n;
        var a = Uniform.Values<T>(Math.Max(1, m * k), seed: m + k);
        var b = Uniform.Values<T>(Math.Max(1, k * n), seed: n + 7);
        var bias = Uniform.Values<T>(n, seed: 3);
        T alpha = T.CreateChecked(0.75);
        int saved = ForkJoin.Threads;
        try
        {
            ForkJoin.Threads = threads;
            var twoPass = new T[m * n];
            for (int i = 0; i < m; i++) bias.CopyTo(twoPass.AsSpan(i * n, n));
            Gemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, T.One, twoPass, n);

            var fused = Enumerable.Repeat(T.NaN, m * n).ToArray();   // never read
            Gemm.RunWithBias(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, fused, n);
            Assert.That(fused, Is.EqualTo(twoPass).AsCollection, "fused bias vs bias rows + beta = 1");

            var reference = new T[m * n];
            for (int i = 0; i < m; i++) bias.CopyTo(reference.AsSpan(i * n, n));
            GemmReference.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, T.One, reference, n);
            double tolerance = typeof(T) == typeof(float) ? 1e-5 : 1e-12;
            for (int i = 0; i < reference.Length; i++)
                Assert.That(double.CreateChecked(fused[i]), Is.EqualTo(double.CreateChecked(reference[i])).Within(tolerance * Math.Max(1, k)), $"C[{i}]");
        }
        finally { ForkJoin.Threads = saved; }
    }

    [Test]
    public void AlphaZero_GivesTheBiasRows()
    {
        var bias = Uniform.Values<T>(7, seed: 1);
        var c = Enumerable.Repeat(T.NaN, 3 * 7).ToArray();
        Gemm.RunWithBias(false, false, 3, 7, 5, T.Zero, new T[15], 5, new T[35], 7, bias, c, 7);
        for (int i = 0; i < 3; i++) Assert.That(c.AsSpan(i * 7, 7).ToArray(), Is.EqualTo(bias).AsCollection);
    }

    [Test]
    public void ShortBias_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.RunWithBias(false, false, 2, 4, 3, T.One, new T[6], 3, new T[12], 4, new T[3], new T[8], 4));
        Assert.That(e!.Message, Does.Contain("bias"));
    }
}
