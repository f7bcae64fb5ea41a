using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class LayerNormTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();
    static readonly T Eps = T.CreateChecked(1e-5);

    static readonly object[] Shapes =
    [
        new object[] { 1, 1 }, new object[] { 1, 7 }, new object[] { 7, 33 }, new object[] { 33, 127 },
        new object[] { 127, 7 }, new object[] { 3, 768 }, new object[] { 300, 257 }, // parallel
    ];

    [TestCaseSource(nameof(Shapes))]
    public void ForwardBackward_MatchReference(int n, int d)
    {
        foreach (bool affine in new[] { true, false })
        {
            var x = Uniform<T>(n * d, seed: n + d, low: -2, high: 3);
            T[] w = affine ? Uniform<T>(d, seed: 1, low: 0.5, high: 1.5) : [];
            T[] b = affine ? Uniform<T>(d, seed: 2) : [];
            var (expectedY, actualY) = (new T[n * d], new T[n * d]);
            var (expectedMean, actualMean, expectedRstd, actualRstd) = (new T[n], new T[n], new T[n], new T[n]);
            LayerNormReference.Forward(x, w, b, expectedY, expectedMean, expectedRstd, n, d, Eps);
            LayerNorm.Forward(x, w, b, actualY, actualMean, actualRstd, n, d, Eps);
            string what = affine ? "affine" : "plain";
            // d = 1 normalises to 0: the error is judged against the scale of the inputs.
            KernelAssert.Close<T>(expectedY, actualY, Tol, $"y ({what})", scale: 10);
            KernelAssert.Close<T>(expectedMean, actualMean, Tol, $"mean ({what})");
            KernelAssert.Close<T>(expectedRstd, actualRstd, Tol, $"rstd ({what})", scale: 10);

            var dy = Uniform<T>(n * d, seed: 3);
            var expectedDx = Uniform<T>(n * d, seed: 4);
            var expectedDw = Uniform<T>(d, seed: 5);
            var expectedDb = Uniform<T>(d, seed: 6);
            var (actualDx, actualDw, actualDb) = ((T[])expectedDx.Clone(), (T[])expectedDw.Clone(), (T[])expectedDb.Clone());
            LayerNormReference.Backward(dy, x, w, actualMean, actualRstd, expectedDx, expectedDw, expectedDb, n, d);
            LayerNorm.Backward(dy, x, w, actualMean, actualRstd, actualDx, actualDw, actualDb, n, d);
            KernelAssert.Close<T>(expectedDx, actualDx, Tol, $"dx ({what})", scale: 10);
            KernelAssert.Close<T>(expectedDw, actualDw, Tol, $"dw ({what})", scale: Math.Sqrt(n));
            KernelAssert.Close<T>(expectedDb, actualDb, Tol, $"db ({what})", scale: Math.Sqrt(n));
        }
    }

    [Test]
    public void Backward_MatchesFiniteDifference([Values] bool affine)
    {
        const int n = 5, d = 7;
        var x = Uniform<double>(n * d, seed: 7, low: -2, high: 2);
        double[] w = affine ? Uniform<double>(d, seed: 8, low: 0.5, high: 1.5) : [];
        double[] b = affine ? Uniform<double>(d, seed: 9) : [];
        var r = Uniform<double>(n * d, seed: 10);
        double Loss(double[] input, double[] weight, double[] bias)
        {
            var y = new double[n * d];
            LayerNorm.Forward(input, weight, bias, y, [], [], n, d, 1e-5);
            return FiniteDifference.Dot(y, r);
        }
        var mean = new double[n];
        var rstd = new double[n];
        LayerNorm.Forward(x, w, b, new double[n * d], mean, rstd, n, d, 1e-5);
        var dx = new double[n * d];
        var dw = new double[d];
        var db = new double[d];
        LayerNorm.Backward(r, x, w, mean, rstd, dx, dw, db, n, d);

        FiniteDifference.AssertMatches(FiniteDifference.Gradient(xx => Loss(xx, w, b), x), dx, "dx");
        if (!affine) return;
        FiniteDifference.AssertMatches(FiniteDifference.Gradient(ww => Loss(x, ww, b), w), dw, "dw");
        FiniteDifference.AssertMatches(FiniteDifference.Gradient(bb => Loss(x, w, bb), b), db, "db");
    }

    [Test]
    public void ScaleWithoutBias_AndInPlace_MatchReference()
    {
        const int n = 7, d = 33;
        var x = Uniform<T>(n * d, seed: 11);
        var w = Uniform<T>(d, seed: 12);
        var expected = new T[n * d];
        LayerNormReference.Forward(x, w, [], expected, [], [], n, d, Eps);
        LayerNorm.Forward(x, w, [], x, [], [], n, d, Eps);
        KernelAssert.Close<T>(expected, x, Tol, "y", scale: 10);
    }

    /// <summary>
    /// The one-pass forward (LibrarySumOrder) must give the TensorPrimitives-composed forward's bits: every pinned
    /// number of a LayerNorm model was computed with the latter. Widths around the library's vector and 8-vector
    /// boundaries, with and without scale and bias, and in place.
    /// </summary>
    [Test]
    public void Forward_EqualsComposedVersion_BitForBit([Values(1, 7, 8, 15, 16, 17, 31, 33, 48, 64, 96, 100, 127, 128, 129, 136, 144, 200, 257, 384, 768)] int d)
    {
        const int n = 9;
        foreach (bool affine in new[] { true, false })
        foreach (bool inPlace in new[] { false, true })
        {
            var x = Uniform<T>(n * d, seed: d, low: -3, high: 5);
            for (int i = 0; i < x.Length; i += 5) x[i] *= T.CreateChecked(1000);   // rows whose order of summation matters
            T[] w = affine ? Uniform<T>(d, seed: 1, low: 0.5, high: 1.5) : [];
            T[] b = affine ? Uniform<T>(d, seed: 2) : [];
            var (expectedY, expectedMean, expectedRstd) = (new T[n * d], new T[n], new T[n]);
            LayerNorm.ForwardComposed<T>(x, w, b, expectedY, expectedMean, expectedRstd, n, d, Eps);
            var actualY = inPlace ? (T[])x.Clone() : new T[n * d];
            var (actualMean, actualRstd) = (new T[n], new T[n]);
            LayerNorm.Forward<T>(inPlace ? actualY : x, w, b, actualY, actualMean, actualRstd, n, d, Eps);
            string what = $"d = {d}, {(affine ? "affine" : "plain")}{(inPlace ? ", in place" : "")}";
            KernelAssert.Equal<T>(expectedY, actualY, $"y ({what})");
            KernelAssert.Equal<T>(expectedMean, actualMean, $"mean ({what})");
            KernelAssert.Equal<T>(expectedRstd, actualRstd, $"rstd ({what})");
        }
    }

    /// <summary>Small inputs run backward in one pass on one thread (dw, db summed as the rows go by): the two-pass version's bits.</summary>
    [Test]
    public void OnePassBackward_EqualsTwoPasses_BitForBit([Values(1, 7, 16, 33, 96, 128, 200)] int d, [Values] bool accumulateDx)
    {
        int n = Math.Max(1, 60_000 / d / 7);   // below the parallel threshold
        foreach (bool affine in new[] { true, false })
        {
            var x = Uniform<T>(n * d, seed: d, low: -2, high: 3);
            T[] w = affine ? Uniform<T>(d, seed: 1, low: 0.5, high: 1.5) : [];
            var (mean, rstd) = (new T[n], new T[n]);
            LayerNorm.Forward<T>(x, w, affine ? Uniform<T>(d, seed: 2) : [], new T[n * d], mean, rstd, n, d, Eps);
            var dy = Uniform<T>(n * d, seed: 3);
            var (dx1, dw1, db1) = (Uniform<T>(n * d, seed: 4), affine ? Uniform<T>(d, seed: 5) : [], affine ? Uniform<T>(d, seed: 6) : []);
            var (dx2, dw2, db2) = ((T[])dx1.Clone(), (T[])dw1.Clone(), (T[])db1.Clone());
            LayerNorm.BackwardInTwoPasses<T>(dy, x, w, mean, rstd, dx1, dw1, db1, n, d, accumulateDx);
            LayerNorm.Backward<T>(dy, x, w, mean, rstd, dx2, dw2, db2, n, d, accumulateDx);
            string what = $"n = {n}, d = {d}, {(affine ? "affine" : "plain")}, accumulate {accumulateDx}";
            KernelAssert.Equal<T>(dx1, dx2, $"dx ({what})");
            KernelAssert.Equal<T>(dw1, dw2, $"dw ({what})");
            KernelAssert.Equal<T>(db1, db2, $"db ({what})");
        }
    }

    /// <summary>
    /// Large inputs run backward in parallel, dw and db split into blocks of columns, each column summed by one thread in row
    /// order: the bits of one thread, whatever the thread count (d = 64 and 128 split into several blocks).
    /// </summary>
    [Test]
    public void ParallelBackward_GivesTheOneThreadBits([Values(33, 64, 100, 128)] int d)
    {
        int n = 3000;   // above the parallel threshold
        var x = Uniform<T>(n * d, seed: d, low: -2, high: 3);
        var w = Uniform<T>(d, seed: 1, low: 0.5, high: 1.5);
        var (mean, rstd) = (new T[n], new T[n]);
        LayerNorm.Forward<T>(x, w, Uniform<T>(d, seed: 2), new T[n * d], mean, rstd, n, d, Eps);
        var dy = Uniform<T>(n * d, seed: 3);
        (T[] Dx, T[] Dw, T[] Db) Run(int threads)
        {
            int before = Forge.Kernels.Threading.ForkJoin.Threads;
            Forge.Kernels.Threading.ForkJoin.Threads = threads;
            try
            {
                var (dx, dw, db) = (new T[n * d], Uniform<T>(d, seed: 5), Uniform<T>(d, seed: 6));
                LayerNorm.Backward<T>(dy, x, w, mean, rstd, dx, dw, db, n, d, accumulateDx: false);
                return (dx, dw, db);
            }
            finally { Forge.Kernels.Threading.ForkJoin.Threads = before; }
        }
        var one = Run(1);
        var two = Run(2);
        KernelAssert.Equal<T>(one.Dx, two.Dx, $"dx (d = {d})");
        KernelAssert.Equal<T>(one.Dw, two.Dw, $"dw (d = {d})");
        KernelAssert.Equal<T>(one.Db, two.Db, $"db (d = {d})");
    }

    [Test]
    public void ShortBuffers_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            LayerNorm.Forward<T>(new T[6], new T[2], [], new T[6], new T[2], new T[2], 2, 3, Eps));
        Assert.That(ex!.Message, Does.Contain("LayerNorm.Forward").And.Contain("w"));
        Assert.Throws<ArgumentException>(() =>
            LayerNorm.Backward<T>(new T[6], new T[6], [], new T[1], new T[2], new T[6], [], [], 2, 3));
    }
}
