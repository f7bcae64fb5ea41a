using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

/// <summary>Broadcasting / strided element-wise kernels and reductions against the CPU references.</summary>
[IlgpuParityFixtures]
public class IlgpuStridedAndReduceTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void Binary_BroadcastAndTranspose_MatchesReference([Values] BinaryOp op)
    {
        // y (2, 3, 5) = a (transposed view of a (5, 3, 2) buffer) op b (a (5) bias broadcast over the rest).
        int[] shape = [2, 3, 5];
        int[] aStrides = [1, 2, 6], bStrides = [0, 0, 1];
        var a = Uniform<T>(30, seed: 1, low: 0.5, high: 2);
        var b = Uniform<T>(7, seed: 2, low: 0.5, high: 2);
        var expected = new T[30];
        ElementwiseReference.Binary<T>(op, shape, a, 0, aStrides, b, 2, bStrides, expected);
        var y = Upload(new T[30]);
        IlgpuElementwise.Binary(Backend, op, shape, Upload(a), 0, aStrides, Upload(b), 2, bStrides, y);
        KernelAssert.Close<T>(expected, Download(y), Tol, "y");
    }

    [Test]
    public void CopyAndAddStrided_MatchReference([Values(false, true)] bool overlapping)
    {
        // A (4, 3) view with a negative stride and an offset; the overlapping case broadcasts rows (stride 0).
        int[] shape = [4, 3];
        int[] strides = overlapping ? [0, 1] : [-3, 1];
        int offset = overlapping ? 2 : 9;
        var x = Uniform<T>(13, seed: 1);
        var copied = new T[12];
        ElementwiseReference.Copy<T>(shape, x, offset, strides, copied);
        var addend = Uniform<T>(12, seed: 2);
        var expectedY = (T[])x.Clone();
        ElementwiseReference.AddStrided<T>(shape, addend, expectedY, offset, strides);

        var xView = Upload(x);
        var copyView = Upload(new T[12]);
        IlgpuElementwise.Copy(Backend, shape, xView, offset, strides, copyView);
        KernelAssert.Equal<T>(copied, Download(copyView), "copy");
        IlgpuElementwise.AddStrided(Backend, shape, Upload(addend), xView, offset, strides);
        KernelAssert.Close<T>(expectedY, Download(xView), Tol, "y", scale: 4);
    }

    [Test]
    public void ReduceBroadcast_MatchesReference([Values(0, 1, 2, 3)] int variant)
    {
        int[] full = [3, 4, 5];
        int[] target = variant switch { 0 => [5], 1 => [4, 1], 2 => [3, 1, 5], _ => [3, 4, 5] };
        var x = Uniform<T>(60, seed: variant);
        int targetCount = target.Aggregate(1, (p, d) => p * d);
        var start = Uniform<T>(targetCount, seed: 9);
        var expected = (T[])start.Clone();
        ElementwiseReference.ReduceBroadcast<T>(full, x, target, expected);
        var targetView = Upload(start);
        IlgpuElementwise.ReduceBroadcast(Backend, full, Upload(x), target, targetView);
        KernelAssert.Close<T>(expected, Download(targetView), Tol, "target", scale: 20);
    }

    /// <summary>Few targets, many copies (a bias gradient): the copies are split into ranges, summed, then added in order.</summary>
    [Test]
    public void ReduceBroadcast_ManyCopies_MatchesReference([Values(0, 1, 2)] int variant)
    {
        int[] full = [700, 2, 3];
        int[] target = variant switch { 0 => [3], 1 => [2, 1], _ => [1, 2, 3] };
        var x = Uniform<T>(700 * 6, seed: 40 + variant);
        int targetCount = target.Aggregate(1, (p, d) => p * d);
        var start = Uniform<T>(targetCount, seed: 9);
        var expected = (T[])start.Clone();
        ElementwiseReference.ReduceBroadcast<T>(full, x, target, expected);
        var targetView = Upload(start);
        IlgpuElementwise.ReduceBroadcast(Backend, full, Upload(x), target, targetView);
        KernelAssert.Close<T>(expected, Download(targetView), Tol, "target", scale: 700);
    }

    /// <summary>
    /// A bias gradient — x (rows, n) or (b, t, n) summed to (n) — takes the column kernels, which must add each
    /// column's rows in row order (split into the same ranges as the general kernels, then added in range
    /// order): bit for bit the host's sum in that order.
    /// </summary>
    [TestCase(1, 1, 5)]
    [TestCase(1, 37, 3)]
    [TestCase(4, 500, 7)]     // split along the rows
    [TestCase(1, 300, 64)]
    public void ReduceBroadcast_BiasColumns_AddRowsInOrder(int outer, int rows, int n)
    {
        int copies = outer * rows;
        int[] full = outer == 1 ? [rows, n] : [outer, rows, n];
        var x = Uniform<T>(copies * n, seed: copies + n);
        var start = Uniform<T>(n, seed: 3);
        var (splits, chunk) = Views.SplitLoop(n, copies, Views.ParallelThreads(Backend), minChunk: 32);
        var expected = new T[n];
        for (int t = 0; t < n; t++)
        {
            if (splits == 1)
            {
                // One thread per column, starting from the target's old value.
                T sum = start[t];
                for (int r = 0; r < copies; r++) sum += x[r * n + t];
                expected[t] = sum;
                continue;
            }
            // Each range summed from zero, then the ranges added to the old value in order.
            T total = start[t];
            for (int split = 0; split < splits; split++)
            {
                T partial = T.Zero;
                for (int r = split * chunk; r < Math.Min(copies, (split + 1) * chunk); r++) partial += x[r * n + t];
                total += partial;
            }
            expected[t] = total;
        }
        var targetView = Upload(start);
        IlgpuElementwise.ReduceBroadcast(Backend, full, Upload(x), [n], targetView);
        Assert.That(Download(targetView), Is.EqualTo(expected).AsCollection);
    }

    [Test]
    public void SumMeanMax_AlongAxis_MatchReference([Values(1, 7)] int outer, [Values(1, 33, 700)] int axis, [Values(1, 5)] int inner)
    {
        var x = Uniform<T>(outer * axis * inner, seed: outer * 100 + axis + inner);
        x[0] = T.NegativeZero;   // +0 beats −0 in the maximum
        T[] sum = new T[outer * inner], mean = new T[outer * inner], max = new T[outer * inner];
        var argmax = new int[outer * inner];
        ReduceReference.Sum<T>(x, outer, axis, inner, sum);
        ReduceReference.Mean<T>(x, outer, axis, inner, mean);
        ReduceReference.Max<T>(x, outer, axis, inner, max, argmax);
        var xView = Upload(x);
        var sumView = Upload(new T[outer * inner]);
        var meanView = Upload(new T[outer * inner]);
        var maxView = Upload(new T[outer * inner]);
        var argmaxView = Upload(new int[outer * inner]);
        IlgpuReduce.Sum(Backend, xView, outer, axis, inner, sumView);
        IlgpuReduce.Mean(Backend, xView, outer, axis, inner, meanView);
        IlgpuReduce.Max(Backend, xView, outer, axis, inner, maxView, argmaxView);
        KernelAssert.Close<T>(sum, Download(sumView), Tol, "sum", scale: axis);
        KernelAssert.Close<T>(mean, Download(meanView), Tol, "mean");
        KernelAssert.Equal<T>(max, Download(maxView), "max");
        Assert.That(Download(argmaxView), Is.EqualTo(argmax), "argmax");
    }

    [Test]
    public void SumAllAndSumOfSquares_MatchReference([Values(1, 33, 1000)] int n)
    {
        var x = Uniform<T>(n, seed: n);
        var sumView = Upload(new T[1]);
        var squaresView = Upload(new T[1]);
        var xView = Upload(x);
        IlgpuReduce.SumAll(Backend, xView, sumView);
        IlgpuReduce.SumOfSquares(Backend, xView, squaresView);
        KernelAssert.Close(ReduceReference.Sum<T>(x), Download(sumView)[0], Tol, "sum", scale: n);
        KernelAssert.Close(T.CreateChecked(ReduceReference.SumOfSquares<T>(x)), Download(squaresView)[0], Tol, "sum of squares", scale: n);
    }
}
