using Forge.Experiments.Affine;
using Forge.Experiments.Reports;

namespace Forge.Tests.Experiments;

/// <summary>The least-squares helpers of the affine analyses on arrays with known fits.</summary>
public class AffineLinearFitTests
{
    [Test]
    public void AnExactLineHasItsSlopeInterceptAndRSquaredOne()
    {
        double[] x = [-2, -0.5, 0, 1, 3.5];
        var y = x.Select(v => 2 * v + 1).ToArray();
        var fit = LinearFit.Of(x, y);
        Assert.That(fit.Slope, Is.EqualTo(2).Within(1e-12));
        Assert.That(fit.Intercept, Is.EqualTo(1).Within(1e-12));
        Assert.That(fit.RSquared, Is.EqualTo(1).Within(1e-12));
        Assert.That(fit.Correlation, Is.EqualTo(1).Within(1e-12));
        Assert.That(fit.Count, Is.EqualTo(5));
    }

    [Test]
    public void HandComputedFit()
    {
        // mean x 1.5, mean y 2.5; Sxy = 4, Sxx = 5, Syy = 5: slope 0.8, intercept 1.3, R² = 16/25.
        var fit = LinearFit.Of([0, 1, 2, 3], [1, 3, 2, 4]);
        Assert.That(fit.Slope, Is.EqualTo(0.8).Within(1e-12));
        Assert.That(fit.Intercept, Is.EqualTo(1.3).Within(1e-12));
        Assert.That(fit.RSquared, Is.EqualTo(0.64).Within(1e-12));
        var falling = LinearFit.Of([0, 1, 2, 3], [4, 2, 3, 1]);
        Assert.That(falling.Correlation, Is.EqualTo(-0.8).Within(1e-12), "a falling line has a negative correlation");
    }

    [Test]
    public void TheMaskSelectsThePoints()
    {
        // The masked-out points would spoil the line.
        var fit = LinearFit.Of([0, 1, 2, 3, 4], [1, 100, 5, 7, -100], [true, false, true, true, false]);
        Assert.That(fit.Count, Is.EqualTo(3));
        Assert.That(fit.Slope, Is.EqualTo(2).Within(1e-12), "the kept points lie on y = 2x + 1");
        Assert.That(fit.Intercept, Is.EqualTo(1).Within(1e-12));
        Assert.That(fit.RSquared, Is.EqualTo(1).Within(1e-12));
    }

    [Test]
    public void ConstantInputsGiveNaNNotNonsense()
    {
        var flatX = LinearFit.Of([1, 1, 1], [1, 2, 3]);
        Assert.That(flatX.Slope, Is.NaN);
        Assert.That(flatX.RSquared, Is.NaN);
        var flatY = LinearFit.Of([1, 2, 3], [4, 4, 4]);
        Assert.That(flatY.Slope, Is.EqualTo(0));
        Assert.That(flatY.RSquared, Is.NaN, "R² of a constant is undefined");
        Assert.That(LinearFit.Of([1.0], [2.0], [false]).Count, Is.EqualTo(0));
    }

    [Test]
    public void TwoRegressorsRecoverTheirWeights()
    {
        var rng = new Rng(7);
        int n = 50;
        var x1 = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
        var x2 = x1.Select(v => 0.7 * v + 0.3 * rng.NextDouble()).ToArray();   // correlated, not collinear
        var y = x1.Zip(x2, (a, b) => 3 * a - 2 * b + 0.5).ToArray();
        var all = Enumerable.Repeat(true, n).ToArray();
        var fit = TwoRegressorFit.Of(x1, x2, y, all);
        Assert.That(fit.W1, Is.EqualTo(3).Within(1e-9));
        Assert.That(fit.W2, Is.EqualTo(-2).Within(1e-9));
        Assert.That(fit.Intercept, Is.EqualTo(0.5).Within(1e-9));
        Assert.That(fit.RSquared, Is.EqualTo(1).Within(1e-9));
        var collinear = TwoRegressorFit.Of(x1, x1.Select(v => 2 * v).ToArray(), y, all);
        Assert.That(collinear.W1, Is.NaN, "collinear regressors have no unique weights");
    }
}
