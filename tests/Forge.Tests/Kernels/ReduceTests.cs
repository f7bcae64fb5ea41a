using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class ReduceTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    static readonly object[] Shapes =
    [
        new object[] { 1, 1, 1 }, new object[] { 1, 7, 1 }, new object[] { 7, 33, 1 }, new object[] { 1, 127, 33 },
        new object[] { 7, 1, 127 }, new object[] { 33, 7, 7 }, new object[] { 3, 33, 127 }, new object[] { 2, 5, 600 },
        new object[] { 1, 300, 257 }, new object[] { 300, 257, 1 }, new object[] { 5, 100, 257 }, // parallel
    ];

    [TestCaseSource(nameof(Shapes))]
    public void SumAndMean_MatchReference(int outer, int axis, int inner)
    {
        var x = Uniform<T>(outer * axis * inner, seed: outer + axis + inner);
        var expected = new T[outer * inner];
        var actual = Uniform<T>(outer * inner, seed: 1); // garbage: Sum overwrites
        ReduceReference.Sum(x, outer, axis, inner, expected);
        Reduce.Sum(x, outer, axis, inner, actual);
        KernelAssert.Close<T>(expected, actual, Tol, "Sum", scale: Math.Sqrt(axis));

        ReduceReference.Mean(x, outer, axis, inner, expected);
        Reduce.Mean(x, outer, axis, inner, actual);
        KernelAssert.Close<T>(expected, actual, Tol, "Mean", scale: 1 / Math.Sqrt(axis));
    }

    [TestCaseSource(nameof(Shapes))]
    public void Max_MatchesReference(int outer, int axis, int inner)
    {
        var x = Uniform<T>(outer * axis * inner, seed: 2);
        var expected = new T[outer * inner];
        var actual = new T[outer * inner];
        var expectedIndex = new int[outer * inner];
        var actualIndex = new int[outer * inner];
        ReduceReference.Max(x, outer, axis, inner, expected, expectedIndex);
        Reduce.Max(x, outer, axis, inner, actual, actualIndex);
        KernelAssert.Equal<T>(expected, actual, "Max");
        Assert.That(actualIndex, Is.EqualTo(expectedIndex));
    }

    [Test]
    public void Max_TiesNaNAndSignedZero_FollowIeeeMaximumFirstWins([Values(1, 3)] int inner)
    {
        // Each case is one axis of 4 values (repeated across `inner` columns): expected argmax.
        (double[] values, int argmax)[] cases =
        [
            ([1, 3, 3, 2], 1),                      // tie: first
            ([1, double.NaN, 5, double.NaN], 1),    // first NaN wins
            ([-0.0, 0.0, -0.0, 0.0], 1),            // +0 beats −0
            ([-5, -2, -2, -7], 1),
        ];
        foreach (var (values, argmax) in cases)
        {
            var x = new T[4 * inner];
            for (int k = 0; k < 4; k++)
                for (int c = 0; c < inner; c++) x[k * inner + c] = T.CreateChecked(values[k]);
            var y = new T[inner];
            var index = new int[inner];
            var referenceY = new T[inner];
            var referenceIndex = new int[inner];
            Reduce.Max(x, 1, 4, inner, y, index);
            ReduceReference.Max(x, 1, 4, inner, referenceY, referenceIndex);
            string what = string.Join(",", values);
            Assert.That(index, Is.All.EqualTo(argmax), what);
            Assert.That(referenceIndex, Is.All.EqualTo(argmax), what + " (reference)");
        }
    }

    [Test]
    public void WholeSumAndSumOfSquares_MatchReference([Values(0, 1, 7, 33, 127, 100_003)] int n)
    {
        var x = Uniform<T>(n, seed: 3);
        KernelAssert.Close(ReduceReference.Sum<T>(x), Reduce.Sum<T>(x), Tol, "Sum", scale: Math.Sqrt(n) + 1);
        double expected = ReduceReference.SumOfSquares<T>(x), actual = Reduce.SumOfSquares<T>(x);
        // Chunks of float sums added in double: the float rounding inside a chunk dominates.
        Assert.That(actual, Is.EqualTo(expected).Within(Tol * (expected + 1)));
    }

    [Test]
    public void BadArguments_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => Reduce.Sum<T>(new T[5], 2, 3, 1, new T[2]));
        Assert.That(ex!.Message, Does.Contain("Reduce.Sum").And.Contain("x").And.Contain("6"));
        Assert.Throws<ArgumentException>(() => Reduce.Sum<T>(new T[6], 2, 3, 1, new T[1]));
        Assert.Throws<ArgumentException>(() => Reduce.Sum<T>(new T[6], -2, 3, 1, new T[2]));
        Assert.Throws<ArgumentException>(() => Reduce.Max<T>(new T[6], 2, 3, 1, new T[2], new int[1]));
        Assert.Throws<ArgumentException>(() => Reduce.Max<T>([], 2, 0, 1, new T[2], new int[2]));
    }
}
