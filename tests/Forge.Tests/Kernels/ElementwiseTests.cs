using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class ElementwiseTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    [Test]
    public void Unary_MatchesReference([Values] UnaryOp op, [Values(1, 7, 33, 127, 70_001)] int n)
    {
        bool positiveOnly = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Reciprocal;
        var x = Uniform<T>(n, seed: n, low: positiveOnly ? 0.1 : -3, high: 3);
        var expected = new T[n];
        var actual = new T[n];
        ElementwiseReference.Unary(op, x, expected);
        Elementwise.Unary(op, x, actual);
        KernelAssert.Close<T>(expected, actual, Tol, $"{op}");

        Elementwise.Unary(op, x, x); // in place
        KernelAssert.Close<T>(expected, x, Tol, $"{op} in place");
    }

    [Test]
    public void UnaryBackward_MatchesReference([Values] UnaryOp op, [Values(1, 7, 33, 127, 70_001)] int n)
    {
        bool positiveOnly = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Reciprocal;
        var x = Uniform<T>(n, seed: n, low: positiveOnly ? 0.1 : -3, high: 3);
        var y = new T[n];
        Elementwise.Unary(op, x, y);
        var dy = Uniform<T>(n, seed: 2);
        var expected = Uniform<T>(n, seed: 3);
        var actual = (T[])expected.Clone();
        ElementwiseReference.UnaryBackward(op, x, y, dy, expected);
        Elementwise.UnaryBackward(op, x, y, dy, actual);
        // The fast rules use y where the reference recomputes from x (ulp-level differences in y).
        KernelAssert.Close<T>(expected, actual, 4 * Tol, $"{op}", scale: 10);
    }

    [Test]
    public void UnaryBackward_MatchesFiniteDifference([Values] UnaryOp op)
    {
        bool positiveOnly = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Reciprocal;
        // Keep away from the kinks of Relu and Abs at 0, where finite differences are meaningless.
        var x = Uniform<double>(33, seed: 4, low: positiveOnly ? 0.2 : 0.05, high: 2);
        for (int i = 0; i < x.Length; i += 2) if (!positiveOnly) x[i] = -x[i];
        var r = Uniform<double>(33, seed: 5);
        var numerical = FiniteDifference.Gradient(xx =>
        {
            var yy = new double[33];
            Elementwise.Unary(op, xx, yy);
            return FiniteDifference.Dot(yy, r);
        }, x);
        var y = new double[33];
        Elementwise.Unary(op, x, y);
        var dx = new double[33];
        Elementwise.UnaryBackward(op, x, y, r, dx);
        FiniteDifference.AssertMatches(numerical, dx, $"{op}", tolerance: 1e-5);
    }

    [Test]
    public void Relu_KeepsNaNAndClampsNegativeZero()
    {
        T[] x = [T.NaN, -T.Zero, -T.One, T.One];
        var y = new T[4];
        Elementwise.Unary(UnaryOp.Relu, x, y);
        Assert.That(T.IsNaN(y[0]));
        Assert.That(y[1], Is.EqualTo(T.Zero));
        Assert.That(y[2], Is.EqualTo(T.Zero));
        Assert.That(y[3], Is.EqualTo(T.One));
    }

    [Test]
    public void ScaleAxpyFill_MatchReference([Values(1, 7, 33, 127, 70_001)] int n)
    {
        var x = Uniform<T>(n, seed: 1);
        var y0 = Uniform<T>(n, seed: 2);
        T alpha = T.CreateChecked(-0.75);

        var expected = new T[n];
        var actual = new T[n];
        ElementwiseReference.Scale(x, alpha, expected);
        Elementwise.Scale(x, alpha, actual);
        KernelAssert.Close<T>(expected, actual, Tol, "Scale");

        expected = (T[])y0.Clone();
        actual = (T[])y0.Clone();
        ElementwiseReference.Axpy(alpha, x, expected);
        Elementwise.Axpy(alpha, x, actual);
        KernelAssert.Close<T>(expected, actual, Tol, "Axpy");

        Elementwise.Fill<T>(actual, alpha);
        Assert.That(actual, Is.All.EqualTo(alpha));
    }

    /// <summary>Binary cases: full shape, each operand's own shape (broadcast NumPy-style into the full shape).</summary>
    static readonly object[] BroadcastCases =
    [
        new object[] { new[] { 127 }, new[] { 127 }, new[] { 127 } },
        new object[] { new[] { 7, 33 }, new[] { 7, 33 }, new[] { 7, 33 } },
        new object[] { new[] { 3, 4, 5 }, new[] { 3, 1, 5 }, new[] { 4, 1 } },
        new object[] { new[] { 7, 33 }, new[] { 7, 33 }, Array.Empty<int>() },   // tensor op scalar
        new object[] { new[] { 7, 33 }, Array.Empty<int>(), new[] { 7, 33 } },   // scalar op tensor
        new object[] { new[] { 7, 33 }, new[] { 33 }, new[] { 7, 33 } },          // leading-axis broadcast
        new object[] { new[] { 7, 33 }, new[] { 7, 1 }, new[] { 1, 33 } },        // outer product
        new object[] { new[] { 2, 1, 3, 1, 5 }, new[] { 2, 1, 3, 1, 5 }, new[] { 1, 1, 5 } },
        new object[] { Array.Empty<int>(), Array.Empty<int>(), Array.Empty<int>() },
        new object[] { new[] { 300, 257 }, new[] { 300, 257 }, new[] { 257 } },  // large: parallel rows
        new object[] { new[] { 70_001 }, new[] { 70_001 }, new[] { 1 } },        // large: parallel chunks
    ];

    [TestCaseSource(nameof(BroadcastCases))]
    public void Binary_Broadcast_MatchesReference(int[] shape, int[] aShape, int[] bShape)
    {
        foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
        {
            var a = Uniform<T>(Math.Max(1, ElementwiseReference.Count(aShape)), seed: 3, low: 0.5, high: 2);
            var b = Uniform<T>(Math.Max(1, ElementwiseReference.Count(bShape)), seed: 4, low: 0.5, high: 2);
            int[] aStrides = BroadcastStrides(aShape, shape), bStrides = BroadcastStrides(bShape, shape);
            CheckBinary(op, shape, a, 0, aStrides, b, 0, bStrides);
        }
    }

    [Test]
    public void Binary_TransposedAndOffsetInputs_MatchReference([Values(1, 7, 33, 127)] int n)
    {
        // a: the transpose of a contiguous (5, n) matrix seen as (n, 5); b: every other row of a
        // (2n, 5) buffer starting at row 1, read backwards along the columns.
        var aStorage = Uniform<T>(5 * n, seed: 5);
        var bStorage = Uniform<T>(2 * n * 5 + 5, seed: 6);
        foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
            CheckBinary(op, [n, 5], aStorage, 0, [1, n], bStorage, 5 + 4, [10, -1]);
    }

    [Test]
    public void Binary_LargeTransposed_MatchesReference()
    {
        // Strided rows on the parallel path.
        const int rows = 300, cols = 257;
        var a = Uniform<T>(rows * cols, seed: 7);
        var b = Uniform<T>(cols, seed: 8);
        CheckBinary(BinaryOp.Sub, [rows, cols], a, 0, [1, rows], b, 0, [0, 1]);
    }

    static void CheckBinary(BinaryOp op, int[] shape, T[] a, int aOffset, int[] aStrides, T[] b, int bOffset, int[] bStrides)
    {
        int count = ElementwiseReference.Count(shape);
        var expected = new T[count];
        var actual = new T[count];
        ElementwiseReference.Binary(op, shape, a, aOffset, aStrides, b, bOffset, bStrides, expected);
        Elementwise.Binary(op, shape, a, aOffset, aStrides, b, bOffset, bStrides, actual);
        KernelAssert.Close<T>(expected, actual, Tol, $"{op} shape ({string.Join(",", shape)})");
    }

    [Test]
    public void Binary_OutputTooShort_Throws()
    {
        var a = new T[6];
        var ex = Assert.Throws<ArgumentException>(() =>
            Elementwise.Binary<T>(BinaryOp.Add, [2, 3], a, 0, [3, 1], a, 0, [3, 1], new T[5]));
        Assert.That(ex!.Message, Does.Contain("Elementwise.Binary").And.Contain("y"));
        Assert.Throws<ArgumentException>(() =>
            Elementwise.Binary<T>(BinaryOp.Add, [2, 3], a, 1, [3, 1], a, 0, [3, 1], new T[6]));
    }

    [Test]
    public void Copy_PermutedView_MatchesReference([Values(1, 7, 33)] int n)
    {
        // x is a (2, n, 3) buffer at offset 4, viewed as (3, 2, n) by permuting its axes (2, 0, 1).
        var x = Uniform<T>(4 + 2 * n * 3, seed: 9);
        CheckCopy([3, 2, n], x, 4, [1, 3 * n, 3]);
        CheckCopy([3, n], x, 0, [0, 1]);          // broadcast rows
        CheckCopy([n, 2], x, 2 * n * 3 + 2, [-3, 1]); // negative stride
    }

    [Test]
    public void Copy_Large_MatchesReference()
    {
        var x = Uniform<T>(300 * 257, seed: 10);
        CheckCopy([257, 300], x, 0, [1, 257]);
        CheckCopy([300, 257], x, 0, [257, 1]);
    }

    [Test]
    public void Copy_BatchedTranspose_MatchesReference([Values(1, 7, 33)] int n)
    {
        // (2, 3, n, 17) view of a (2, 3, 17, n) buffer at offset 5: the tiled transpose path, with
        // tile edges that do not divide n or 17.
        var x = Uniform<T>(5 + 2 * 3 * 17 * n, seed: 15);
        CheckCopy([2, 3, n, 17], x, 5, [3 * 17 * n, 17 * n, 1, n]);
    }

    static void CheckCopy(int[] shape, T[] x, int offset, int[] strides)
    {
        int count = ElementwiseReference.Count(shape);
        var expected = new T[count];
        var actual = new T[count];
        ElementwiseReference.Copy(shape, x, offset, strides, expected);
        Elementwise.Copy(shape, x, offset, strides, actual);
        KernelAssert.Equal<T>(expected, actual, "Copy");
    }

    [Test]
    public void AddStrided_MatchesReference([Values(1, 7, 33, 127)] int n)
    {
        CheckAddStrided([n, 3], 2 + 5 * n, 2, [5, 1]);     // a column slice of an (n, 5) matrix
        CheckAddStrided([3, n], 3 * n, 0, [1, 3]);         // a transposed view
        CheckAddStrided([4, n], n, 0, [0, 1]);             // expand: four rows land on one
        CheckAddStrided([n, 4], n, 0, [1, 0]);
        CheckAddStrided([2, 3, n], 1, 0, [0, 0, 0]);       // everything onto one element
    }

    [Test]
    public void AddStrided_Large_MatchesReference()
    {
        CheckAddStrided([300, 257], 300 * 260, 3, [260, 1]); // parallel (non-overlapping)
        CheckAddStrided([300, 257], 300, 0, [1, 0]);         // overlapping: sequential
        CheckAddStrided([300, 257], 300 * 257, 0, [1, 300]); // transposed: tiled, parallel
        CheckAddStrided([2, 3, 7, 33], 2 * 3 * 7 * 33 + 4, 4, [3 * 7 * 33, 7 * 33, 1, 7]); // batched transpose
    }

    static void CheckAddStrided(int[] shape, int yLength, int offset, int[] strides)
    {
        var x = Uniform<T>(ElementwiseReference.Count(shape), seed: 11);
        var expected = Uniform<T>(yLength, seed: 12);
        var actual = (T[])expected.Clone();
        ElementwiseReference.AddStrided(shape, x, expected, offset, strides);
        Elementwise.AddStrided(shape, x, actual, offset, strides);
        KernelAssert.Close<T>(expected, actual, Tol, $"AddStrided ({string.Join(",", shape)})", scale: 10);
    }

    static readonly object[] ReduceBroadcastCases =
    [
        new object[] { new[] { 3, 4, 5 }, new[] { 3, 1, 5 } },
        new object[] { new[] { 3, 4, 5 }, new[] { 4, 1 } },
        new object[] { new[] { 3, 4, 5 }, Array.Empty<int>() },
        new object[] { new[] { 3, 4, 5 }, new[] { 5 } },
        new object[] { new[] { 3, 4, 5 }, new[] { 3, 4, 5 } },
        new object[] { new[] { 3, 4, 5 }, new[] { 1, 1, 1 } },
        new object[] { new[] { 7, 33 }, new[] { 7, 1 } },
        new object[] { new[] { 2, 7, 33 }, new[] { 2, 1, 33 } },
        new object[] { new[] { 127, 1, 33 }, new[] { 1, 33 } },
        new object[] { new[] { 300, 257 }, new[] { 257 } },     // bias gradient: column sums, parallel
        new object[] { new[] { 300, 257 }, new[] { 300, 1 } },  // row sums
        new object[] { new[] { 30, 10, 257 }, new[] { 10, 1 } }, // two summed axes: strided path
    ];

    [TestCaseSource(nameof(ReduceBroadcastCases))]
    public void ReduceBroadcast_MatchesReference(int[] fullShape, int[] targetShape)
    {
        var x = Uniform<T>(ElementwiseReference.Count(fullShape), seed: 13);
        var expected = Uniform<T>(ElementwiseReference.Count(targetShape), seed: 14);
        var actual = (T[])expected.Clone();
        ElementwiseReference.ReduceBroadcast(fullShape, x, targetShape, expected);
        Elementwise.ReduceBroadcast(fullShape, x, targetShape, actual);
        double terms = ElementwiseReference.Count(fullShape) / (double)ElementwiseReference.Count(targetShape);
        KernelAssert.Close<T>(expected, actual, Tol, "ReduceBroadcast", scale: Math.Sqrt(terms));
    }

    [Test]
    public void ReduceBroadcast_IsTheGradientOfBroadcasting()
    {
        // d/db Σ r ⊙ (a + broadcast(b)) = ReduceBroadcast(r): check against finite differences.
        int[] shape = [3, 4, 5], bShape = [4, 1];
        var a = Uniform<double>(60, seed: 15);
        var r = Uniform<double>(60, seed: 16);
        var b = Uniform<double>(4, seed: 17);
        int[] aStrides = BroadcastStrides(shape, shape), bStrides = BroadcastStrides(bShape, shape);
        var numerical = FiniteDifference.Gradient(bb =>
        {
            var y = new double[60];
            Elementwise.Binary(BinaryOp.Add, shape, a, 0, aStrides, bb, 0, bStrides, y);
            return FiniteDifference.Dot(y, r);
        }, b);
        var analytic = new double[4];
        Elementwise.ReduceBroadcast(shape, r, bShape, analytic);
        FiniteDifference.AssertMatches(numerical, analytic, "dB");
    }

    [Test]
    public void ReduceBroadcast_IncompatibleShapes_Throw()
    {
        var x = new T[60];
        Assert.Throws<ArgumentException>(() => Elementwise.ReduceBroadcast<T>([3, 4, 5], x, [2, 5], new T[10]));
        Assert.Throws<ArgumentException>(() => Elementwise.ReduceBroadcast<T>([4, 5], x, [1, 4, 5], new T[20]));
    }

    /// <summary>Strides reading an operand of <paramref name="operandShape"/> (contiguous) broadcast to <paramref name="fullShape"/>.</summary>
    internal static int[] BroadcastStrides(int[] operandShape, int[] fullShape)
    {
        var strides = new int[fullShape.Length];
        int missing = fullShape.Length - operandShape.Length, stride = 1;
        for (int axis = fullShape.Length - 1; axis >= missing; axis--)
        {
            int dim = operandShape[axis - missing];
            strides[axis] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
        return strides;
    }
}
