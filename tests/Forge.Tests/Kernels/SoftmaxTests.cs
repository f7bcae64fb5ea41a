using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class SoftmaxTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    [Test]
    public void Forward_MatchesReference([Values(1, 7, 33, 127)] int rows, [Values(1, 7, 33, 127)] int cols)
    {
        var x = Uniform<T>(rows * cols, seed: rows * 1000 + cols, low: -5, high: 5);
        var expected = new T[rows * cols];
        var actual = new T[rows * cols];
        SoftmaxReference.Forward(x, expected, rows, cols);
        Softmax.Forward(x, actual, rows, cols);
        KernelAssert.Close<T>(expected, actual, Tol, "y");
        Softmax.Forward(x, x, rows, cols); // in place
        KernelAssert.Close<T>(expected, x, Tol, "y in place");
    }

    [Test]
    public void Forward_Large_MatchesReferenceAndRowsSumToOne()
    {
        const int rows = 300, cols = 257;
        var x = Uniform<T>(rows * cols, seed: 1, low: -5, high: 5);
        var expected = new T[rows * cols];
        var actual = new T[rows * cols];
        SoftmaxReference.Forward(x, expected, rows, cols);
        Softmax.Forward(x, actual, rows, cols);
        KernelAssert.Close<T>(expected, actual, Tol, "y");
        for (int r = 0; r < rows; r++)
            KernelAssert.Close(T.One, Reduce.Sum<T>(actual.AsSpan(r * cols, cols)), 10 * Tol, $"row {r} sum");
    }

    [Test]
    public void Forward_HugeLogits_StaysFinite()
    {
        T big = T.CreateChecked(1000);
        T[] x = [big, -big, T.Zero, big, -big, big, -big, T.CreateChecked(999)];
        var y = new T[8];
        Softmax.Forward(x, y, 2, 4);
        KernelAssert.AllFinite<T>(y, "y");
        KernelAssert.Close<T>([T.CreateChecked(0.5), T.Zero, T.Zero, T.CreateChecked(0.5)], y.AsSpan(0, 4), Tol, "row 0");
        KernelAssert.Close(T.One / (T.One + T.Exp(T.One)), y[7], Tol, "row 1, last");
    }

    [Test]
    public void ForwardCausal_MatchesReferenceAndMasksExactly([Values(1, 7, 33)] int t, [Values(1, 3)] int batch)
    {
        var x = Uniform<T>(batch * t * t, seed: t, low: -5, high: 5);
        var expected = new T[x.Length];
        var actual = Uniform<T>(x.Length, seed: 99); // garbage where the mask must write zeros
        SoftmaxReference.ForwardCausal(x, expected, batch, t);
        Softmax.ForwardCausal(x, actual, batch, t);
        KernelAssert.Close<T>(expected, actual, Tol, "y");
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < t; i++)
                for (int j = i + 1; j < t; j++)
                    Assert.That(actual[(b * t + i) * t + j], Is.EqualTo(T.Zero), $"masked y[{b},{i},{j}]");
    }

    [Test]
    public void Backward_MatchesReference([Values(1, 7, 33, 127)] int rows, [Values(1, 7, 33, 127)] int cols)
    {
        var y = new T[rows * cols];
        Softmax.Forward(Uniform<T>(rows * cols, seed: 1, low: -3, high: 3), y, rows, cols);
        var dy = Uniform<T>(rows * cols, seed: 2);
        var expected = Uniform<T>(rows * cols, seed: 3); // dx accumulates
        var actual = (T[])expected.Clone();
        SoftmaxReference.Backward(y, dy, expected, rows, cols);
        Softmax.Backward(y, dy, actual, rows, cols);
        KernelAssert.Close<T>(expected, actual, Tol, "dx");
    }

    [Test]
    public void BackwardCausal_MatchesReference([Values(1, 7, 33)] int t)
    {
        const int batch = 2;
        var y = new T[batch * t * t];
        Softmax.ForwardCausal(Uniform<T>(y.Length, seed: 1, low: -3, high: 3), y, batch, t);
        var dy = Uniform<T>(y.Length, seed: 2);
        var expected = Uniform<T>(y.Length, seed: 3);
        var actual = (T[])expected.Clone();
        SoftmaxReference.BackwardCausal(y, dy, expected, batch, t);
        Softmax.BackwardCausal(y, dy, actual, batch, t);
        KernelAssert.Close<T>(expected, actual, Tol, "dx");
    }

    [Test]
    public void Backward_MatchesFiniteDifference([Values] bool causal)
    {
        const int rows = 7, cols = 7;
        var x = Uniform<double>(rows * cols, seed: 4, low: -3, high: 3);
        var r = Uniform<double>(rows * cols, seed: 5);
        double Loss(double[] input)
        {
            var output = new double[rows * cols];
            if (causal) Softmax.ForwardCausal(input, output, 1, rows);
            else Softmax.Forward(input, output, rows, cols);
            return FiniteDifference.Dot(output, r);
        }
        var numerical = FiniteDifference.Gradient(Loss, x);
        var y = new double[rows * cols];
        var dx = new double[rows * cols];
        if (causal)
        {
            Softmax.ForwardCausal(x, y, 1, rows);
            Softmax.BackwardCausal(y, r, dx, 1, rows);
        }
        else
        {
            Softmax.Forward(x, y, rows, cols);
            Softmax.Backward(y, r, dx, rows, cols);
        }
        FiniteDifference.AssertMatches(numerical, dx, "dx");
    }

    [Test]
    public void ShortBuffers_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Forward<T>(new T[6], new T[5], 2, 3));
        Assert.That(ex!.Message, Does.Contain("Softmax.Forward").And.Contain("y"));
        Assert.Throws<ArgumentException>(() => Softmax.Backward<T>(new T[6], new T[5], new T[6], 2, 3));
        Assert.Throws<ArgumentException>(() => Softmax.ForwardCausal<T>(new T[8], new T[9], 1, 3));
    }
}
