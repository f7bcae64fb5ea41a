using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class EmbeddingTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    [Test]
    public void GatherAndScatterAdd_MatchReference([Values(1, 7, 33, 127)] int n, [Values(1, 7, 33, 300)] int d)
    {
        const int vocab = 11; // fewer rows than positions: ids repeat
        var ids = Indices(n, vocab, seed: n + d);
        var table = Uniform<T>(vocab * d, seed: 1);
        var (expected, actual) = (new T[n * d], new T[n * d]);
        EmbeddingReference.Gather(ids, table, expected, vocab, d);
        Embedding.Gather(ids, table, actual, vocab, d);
        KernelAssert.Equal<T>(expected, actual, "y");

        var dy = Uniform<T>(n * d, seed: 2);
        var expectedTable = Uniform<T>(vocab * d, seed: 3);
        var actualTable = (T[])expectedTable.Clone();
        EmbeddingReference.ScatterAdd(ids, dy, expectedTable, vocab, d);
        Embedding.ScatterAdd(ids, dy, actualTable, vocab, d);
        KernelAssert.Close<T>(expectedTable, actualTable, Tol, "dTable", scale: 10);
    }

    [Test]
    public void Large_MatchesReference()
    {
        const int n = 512, d = 384, vocab = 97; // parallel rows and column blocks
        var ids = Indices(n, vocab, seed: 4);
        var table = Uniform<T>(vocab * d, seed: 5);
        var (expected, actual) = (new T[n * d], new T[n * d]);
        EmbeddingReference.Gather(ids, table, expected, vocab, d);
        Embedding.Gather(ids, table, actual, vocab, d);
        KernelAssert.Equal<T>(expected, actual, "y");

        var expectedTable = new T[vocab * d];
        var actualTable = new T[vocab * d];
        EmbeddingReference.ScatterAdd(ids, actual, expectedTable, vocab, d);
        Embedding.ScatterAdd(ids, actual, actualTable, vocab, d);
        KernelAssert.Equal<T>(expectedTable, actualTable, "dTable"); // same order of additions per element
    }

    [Test]
    public void ScatterAdd_IsTheGradientOfGather()
    {
        const int vocab = 5, d = 3;
        int[] ids = [4, 0, 4, 2];
        var table = Uniform<double>(vocab * d, seed: 6);
        var r = Uniform<double>(ids.Length * d, seed: 7);
        var numerical = FiniteDifference.Gradient(t =>
        {
            var y = new double[ids.Length * d];
            Embedding.Gather(ids, t, y, vocab, d);
            return FiniteDifference.Dot(y, r);
        }, table);
        var dTable = new double[vocab * d];
        Embedding.ScatterAdd(ids, r, dTable, vocab, d);
        FiniteDifference.AssertMatches(numerical, dTable, "dTable");
    }

    [Test]
    public void IdOutOfRange_ThrowsNamingPositionAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => Embedding.Gather<T>([0, 3, 7], new T[8], new T[6], 4, 2));
        Assert.That(ex!.Message, Does.Contain("Embedding.Gather").And.Contain("ids[2] = 7"));
        ex = Assert.Throws<ArgumentException>(() => Embedding.ScatterAdd<T>([-1], new T[2], new T[8], 4, 2));
        Assert.That(ex!.Message, Does.Contain("Embedding.ScatterAdd").And.Contain("ids[0] = -1"));
    }
}
