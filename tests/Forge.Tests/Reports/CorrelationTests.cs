using Forge.Experiments.Reports;

namespace Forge.Tests.Reports;

/// <summary>
/// The correlation-table statistics against answers obtained without the code's formulas: data built so
/// that r is exactly ±1 or 0, small examples worked by hand, and p-values from the closed-form CDFs of
/// Student's t with 2 and 3 degrees of freedom (the code uses MathNet's incomplete beta function).
/// <para>
/// Two closed forms used throughout. With 2 degrees of freedom F(t) = 1/2 + t/(2√(t² + 2)); for a
/// correlation t² = 2r²/(1 − r²), so t² + 2 = 2/(1 − r²) and t/√(t² + 2) = |r|: the two-sided p-value is
/// p = 2(1 − F(|t|)) = 1 − |r| exactly (n = 4 for Pearson, or n − 2 − k = 2 for a partial correlation).
/// With 3 degrees of freedom F(t) = 1/2 + (1/π)(u/(1 + u²) + atan u) where u = t/√3.
/// </para>
/// </summary>
public class CorrelationTests
{
    /// <summary>Two-sided p-value for 3 degrees of freedom from the closed-form CDF above.</summary>
    static double TwoSidedPThreeFreedom(double t)
    {
        double u = Math.Abs(t) / Math.Sqrt(3);
        double cdf = 0.5 + (u / (1 + u * u) + Math.Atan(u)) / Math.PI;
        return 2 * (1 - cdf);
    }

    [Test]
    public void PerfectlyLinearSetHasROneRSquaredOneAndPZero()
    {
        // y = 2x + 1 on 1..5: x̄ = 3 and ȳ = 7 are exact, so every deviation is exact and dy = 2dx;
        // r = 2Sxx/√(Sxx·4Sxx) = 1 with no rounding at all.
        double[] x = [1, 2, 3, 4, 5];
        double[] y = [3, 5, 7, 9, 11];
        var pearson = Correlation.Pearson(x, y);
        Assert.That(pearson.R, Is.EqualTo(1.0));
        Assert.That(pearson.P, Is.EqualTo(0.0));
        Assert.That(pearson.N, Is.EqualTo(5));
        var line = Correlation.Line(x, y);
        Assert.That(line.RSquared, Is.EqualTo(1.0));
        Assert.That(line.Slope, Is.EqualTo(2.0));
        Assert.That(line.Intercept, Is.EqualTo(1.0));
        Assert.That(Correlation.Spearman(x, y), Is.EqualTo((1.0, 0.0, 5)));

        double[] falling = [-3, -6, -9, -12, -15];   // y = −3x: x̄ and ȳ exact again
        Assert.That(Correlation.Pearson(x, falling).R, Is.EqualTo(-1.0));
        Assert.That(Correlation.Pearson(x, falling).P, Is.EqualTo(0.0));
    }

    [Test]
    public void SymmetricSetHasRExactlyZeroAndPOne()
    {
        // y = x² on −2..2: Σ(x − 0)(y − 2) = Σx³ − 2Σx = 0, a U shape with no linear trend.
        // Ranks: x → 1..5, y = 4 1 0 1 4 → 4.5 2.5 1 2.5 4.5; centred (−2 −1 0 1 2)·(1.5 −.5 −2 −.5 1.5) = −3 + .5 + 0 − .5 + 3 = 0.
        double[] x = [-2, -1, 0, 1, 2];
        double[] y = [4, 1, 0, 1, 4];
        Assert.That(Correlation.Pearson(x, y), Is.EqualTo((0.0, 1.0, 5)));
        Assert.That(Correlation.Spearman(x, y), Is.EqualTo((0.0, 1.0, 5)));
        Assert.That(Correlation.Line(x, y).Slope, Is.EqualTo(0.0));
        Assert.That(Correlation.Line(x, y).RSquared, Is.EqualTo(0.0));
        Assert.That(Correlation.PValue(0, 30), Is.EqualTo(1.0));
        Assert.That(Correlation.PValue(-1, 3), Is.EqualTo(0.0));
    }

    [Test]
    public void FourPointsWorkedByHand()
    {
        // x = 1 2 3 4, y = 1 3 2 4: x̄ = ȳ = 2.5, dx = −1.5 −.5 .5 1.5, dy = −1.5 .5 −.5 1.5.
        // Sxy = 2.25 − .25 − .25 + 2.25 = 4, Sxx = Syy = 2.25 + .25 + .25 + 2.25 = 5, r = 4/5 = 0.8.
        // Line: b = Sxy/Sxx = 0.8, a = 2.5 − 0.8·2.5 = 0.5; fitted 1.3 2.1 2.9 3.7; residuals −.3 .9 −.9 .3;
        // SS_res = .09 + .81 + .81 + .09 = 1.8, SS_tot = 5, R² = 1 − 1.8/5 = 0.64 (= r², as it must be).
        // p: n = 4 ⇒ 2 degrees of freedom ⇒ p = 1 − |r| = 0.2 (t = 0.8·√(2/0.36) = 4√2/3, √(t² + 2) = 5√2/3,
        // F(t) = 1/2 + 4/10 = 0.9). The values are their own ranks, so Spearman is the same.
        double[] x = [1, 2, 3, 4];
        double[] y = [1, 3, 2, 4];
        var pearson = Correlation.Pearson(x, y);
        Assert.That(pearson.R, Is.EqualTo(0.8).Within(1e-15));
        Assert.That(pearson.P, Is.EqualTo(0.2).Within(1e-12));
        var line = Correlation.Line(x, y);
        Assert.That(line.Slope, Is.EqualTo(0.8).Within(1e-15));
        Assert.That(line.Intercept, Is.EqualTo(0.5).Within(1e-15));
        Assert.That(line.RSquared, Is.EqualTo(0.64).Within(1e-15));
        var spearman = Correlation.Spearman(x, y);
        Assert.That(spearman.Rho, Is.EqualTo(0.8).Within(1e-15));
        Assert.That(spearman.P, Is.EqualTo(0.2).Within(1e-12));
    }

    [Test]
    public void TwoDegreesOfFreedomGivePOneMinusAbsoluteR()
    {
        foreach (double r in new[] { 0.05, 0.3, -0.5, 0.9, -0.999 })
            Assert.That(Correlation.PValue(r, 4), Is.EqualTo(1 - Math.Abs(r)).Within(1e-12), $"r = {r}");
    }

    [Test]
    public void FivePointsCheckedAgainstTheThreeFreedomClosedForm()
    {
        // x = 1..5, y = 2 1 4 3 5: dx = −2 −1 0 1 2, ȳ = 3, dy = −1 −2 1 0 2.
        // Sxy = 2 + 2 + 0 + 0 + 4 = 8, Sxx = 10, Syy = 1 + 4 + 1 + 0 + 4 = 10, r = 0.8.
        // t = 0.8·√(3/0.36) = 4/√3, u = t/√3 = 4/3, u/(1 + u²) = 12/25, so
        // p = 1 − (2/π)(0.48 + atan(4/3)) ≈ 0.104088.
        double[] x = [1, 2, 3, 4, 5];
        double[] y = [2, 1, 4, 3, 5];
        var pearson = Correlation.Pearson(x, y);
        Assert.That(pearson.R, Is.EqualTo(0.8).Within(1e-15));
        double expected = 1 - 2 / Math.PI * (0.48 + Math.Atan(4.0 / 3));
        Assert.That(expected, Is.EqualTo(TwoSidedPThreeFreedom(4 / Math.Sqrt(3))).Within(1e-15));
        Assert.That(pearson.P, Is.EqualTo(expected).Within(1e-12));
        Assert.That(pearson.P, Is.EqualTo(0.104088).Within(1e-6));
    }

    [Test]
    public void SpearmanIsOneOnAMonotoneCurveWherePearsonIsNot()
    {
        double[] x = [1, 2, 3, 4, 5, 6];
        double[] y = x.Select(Math.Exp).ToArray();   // same order as x, far from a line
        var spearman = Correlation.Spearman(x, y);
        Assert.That(spearman.Rho, Is.EqualTo(1.0));
        Assert.That(spearman.P, Is.EqualTo(0.0));
        Assert.That(Correlation.Pearson(x, y).R, Is.LessThan(0.95));
        Assert.That(Correlation.Spearman(x, y.Select(v => -v).ToArray()).Rho, Is.EqualTo(-1.0));
    }

    [Test]
    public void NonFinitePairsAreDroppedAndUndefinedStatisticsAreNaN()
    {
        double[] x = [1, double.NaN, 2, 3, 4, 7];
        double[] y = [1, 5, 3, 2, double.PositiveInfinity, 4];
        // Complete pairs: (1,1) (2,3) (3,2) (7,4) — compare with the clean arrays.
        double[] cleanX = [1, 2, 3, 7];
        double[] cleanY = [1, 3, 2, 4];
        Assert.That(Correlation.Pearson(x, y), Is.EqualTo(Correlation.Pearson(cleanX, cleanY)));
        Assert.That(Correlation.Spearman(x, y), Is.EqualTo(Correlation.Spearman(cleanX, cleanY)));
        Assert.That(Correlation.Pearson(x, y).N, Is.EqualTo(4));

        var constant = Correlation.Pearson([1, 2, 3, 4], [5, 5, 5, 5]);
        Assert.That(double.IsNaN(constant.R) && double.IsNaN(constant.P), Is.True);
        Assert.That(double.IsNaN(Correlation.Pearson([5, 5, 5], [1, 2, 3]).R), Is.True);
        Assert.That(double.IsNaN(Correlation.Pearson([1, 2], [1, 2]).R), Is.True, "two models say nothing");
        Assert.That(double.IsNaN(Correlation.PValue(0.5, 2)), Is.True);
        Assert.That(double.IsNaN(Correlation.Spearman([1, 2, 3], [4, 4, 4]).Rho), Is.True);
    }

    [Test]
    public void MismatchedLengthsThrow()
    {
        double[] three = [1, 2, 3];
        double[] four = [1, 2, 3, 4];
        Assert.That(() => Correlation.Pearson(three, four), Throws.ArgumentException.With.Message.Contains("x has 3 values and y has 4"));
        Assert.That(() => Correlation.Spearman(three, four), Throws.ArgumentException.With.Message.Contains("Correlation.Spearman"));
        Assert.That(() => Correlation.Line(three, four), Throws.ArgumentException.With.Message.Contains("Correlation.Line"));
        Assert.That(() => Correlation.Partial(three, four, []), Throws.ArgumentException.With.Message.Contains("Correlation.Partial"));
        Assert.That(() => Correlation.Partial(four, four, [three]), Throws.ArgumentException.With.Message.Contains("covariate 0 has 3 values, x has 4"));
        Assert.That(() => Bootstrap.PercentileInterval(three, four, (a, b) => 0), Throws.ArgumentException.With.Message.Contains("Bootstrap.PercentileInterval"));
        Assert.That(() => CorrelationRow.Of("p", three, four), Throws.ArgumentException);
        Assert.That(() => LeastSquares.Residuals(four, [three]), Throws.ArgumentException.With.Message.Contains("regressor 0 has 3 values, y has 4"));
    }

    [Test]
    public void PartialCorrelationIsPlusOrMinusOneWhenYIsExactlyXPlusZ()
    {
        // x and z are correlated (r ≈ 0.77), so y = x + z is not a perfect function of x alone,
        // but once z's linear part is removed from both, what is left of y is exactly what is left of x.
        double[] x = [1, 2, 3, 4, 5, 6, 7];
        double[] z = [2, 1, 4, 3, 6, 5, 9];
        double[] sum = x.Zip(z, (a, b) => a + b).ToArray();
        double[] difference = x.Zip(z, (a, b) => b - a).ToArray();
        Assert.That(Correlation.Pearson(x, sum).R, Is.LessThan(0.99));
        var partial = Correlation.Partial(x, sum, [z]);
        Assert.That(partial.R, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(partial.P, Is.LessThan(1e-9));
        Assert.That(partial.N, Is.EqualTo(7));
        Assert.That(Correlation.Partial(x, difference, [z]).R, Is.EqualTo(-1.0).Within(1e-12));
    }

    [Test]
    public void PartialCorrelationOfTwoVariablesDrivenByACovariateIsThatOfTheirOwnResiduals()
    {
        // z = −2 −1 0 1 2. The residuals e₁ = 1 −1 0 −1 1 and e₂ = 2 −1 −2 −1 2 both sum to 0 and are
        // orthogonal to z (Σz·e₁ = −2 + 1 + 0 − 1 + 2 = 0, Σz·e₂ = −4 + 1 + 0 − 1 + 4 = 0), so regressing
        // x = 3z + e₁ + 10 and y = −2z + e₂ + 1 on [1, z] leaves exactly e₁ and e₂.
        // Σe₁e₂ = 2 + 1 + 0 + 1 + 2 = 6, Σe₁² = 4, Σe₂² = 14: partial r = 6/√56 ≈ 0.8018.
        // df = n − 2 − k = 5 − 2 − 1 = 2, so p = 1 − r.
        double[] z = [-2, -1, 0, 1, 2];
        double[] x = [5, 6, 10, 12, 17];
        double[] y = [7, 2, -1, -2, -1];
        double expected = 6 / Math.Sqrt(56);
        Assert.That(Correlation.Pearson(x, y).R, Is.LessThan(-0.7), "z makes x and y move in opposite directions");
        var partial = Correlation.Partial(x, y, [z]);
        Assert.That(partial.R, Is.EqualTo(expected).Within(1e-12));
        Assert.That(partial.P, Is.EqualTo(1 - expected).Within(1e-12));
        Assert.That(LeastSquares.Residuals(x, [z]), Is.EqualTo(new double[] { 1, -1, 0, -1, 1 }).Within(1e-12));
    }

    [Test]
    public void PartialCorrelationWithTwoCorrelatedCovariates()
    {
        // The orthogonal polynomials on six points: L = −5 −3 −1 1 3 5, Q = 5 −1 −4 −4 −1 5, C = −5 7 4 −4 −7 5,
        // Q4 = 1 −3 2 2 −3 1 are mutually orthogonal and each sums to 0. Covariates L and Q + L span the same
        // space as [L, Q] (and are correlated with each other). e₁ = C + Q4 and e₂ = Q4 are orthogonal to
        // [1, L, Q], so they are the residuals of x = 2L − Q + e₁ + 3 and y = L + Q/2 + e₂ − 1.
        // Σe₁e₂ = ΣC·Q4 + ΣQ4² = 0 + 28, Σe₁² = ΣC² + ΣQ4² = 180 + 28 = 208, Σe₂² = 28:
        // partial r = 28/√(208·28) = √(7/52) ≈ 0.3669; df = 6 − 2 − 2 = 2 ⇒ p = 1 − r.
        double[] l = [-5, -3, -1, 1, 3, 5];
        double[] q = [5, -1, -4, -4, -1, 5];
        double[] c = [-5, 7, 4, -4, -7, 5];
        double[] q4 = [1, -3, 2, 2, -3, 1];
        var x = Enumerable.Range(0, 6).Select(i => 2 * l[i] - q[i] + c[i] + q4[i] + 3).ToArray();
        var y = Enumerable.Range(0, 6).Select(i => l[i] + q[i] / 2 + q4[i] - 1).ToArray();
        var qPlusL = q.Zip(l, (a, b) => a + b).ToArray();
        double expected = Math.Sqrt(7.0 / 52);
        var partial = Correlation.Partial(x, y, [l, qPlusL]);
        Assert.That(partial.R, Is.EqualTo(expected).Within(1e-12));
        Assert.That(partial.P, Is.EqualTo(1 - expected).Within(1e-12));
        Assert.That(partial.N, Is.EqualTo(6));
    }

    [Test]
    public void PartialCorrelationIsUndefinedWhenNothingIsLeftOrCovariatesAreDependent()
    {
        double[] z = [1, 2, 3, 4, 5, 6];
        double[] y = [3, 1, 4, 1, 5, 9];
        double[] x = z.Select(v => 2 * v + 1).ToArray();   // x is a linear function of z
        Assert.That(double.IsNaN(Correlation.Partial(x, y, [z]).R), Is.True);
        double[] twiceZ = z.Select(v => 2 * v).ToArray();
        double[] w = [1, 0, 0, 1, 1, 0];
        Assert.That(double.IsNaN(Correlation.Partial(w, y, [z, twiceZ]).R), Is.True, "z and 2z are linearly dependent");
        Assert.That(LeastSquares.Residuals(y, [z, twiceZ]), Is.Null);
        Assert.That(double.IsNaN(Correlation.Partial(w.Take(3).ToArray(), y.Take(3).ToArray(), [z.Take(3).ToArray()]).R), Is.True,
            "3 models and 1 covariate leave no degrees of freedom");
        // No covariates: the partial correlation is Pearson's r.
        Assert.That(Correlation.Partial(w, y, []).R, Is.EqualTo(Correlation.Pearson(w, y).R).Within(1e-14));
    }

    /// <summary>n = 30 models with r around 0.7: y = 0.7x + 0.5·noise.</summary>
    static (double[] X, double[] Y) NoisyLinearSample()
    {
        var rng = new Rng(7);
        var x = new double[30];
        var y = new double[30];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextNormal();
            y[i] = 0.7 * x[i] + 0.5 * rng.NextNormal();
        }
        return (x, y);
    }

    static double PearsonR(IReadOnlyList<double> x, IReadOnlyList<double> y) => Correlation.Pearson(x, y).R;

    [Test]
    public void BootstrapIsReproducibleForOneSeed()
    {
        var (x, y) = NoisyLinearSample();
        var first = Bootstrap.PercentileInterval(x, y, PearsonR, seed: 11);
        var again = Bootstrap.PercentileInterval(x, y, PearsonR, seed: 11);
        var other = Bootstrap.PercentileInterval(x, y, PearsonR, seed: 12);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
        Assert.That(first.Used + first.Skipped, Is.EqualTo(Bootstrap.DefaultResamples));
    }

    [Test]
    public void BootstrapIntervalsContainTheEstimatesOnAWellBehavedSample()
    {
        var (x, y) = NoisyLinearSample();
        var row = CorrelationRow.Of("x", x, y);
        Assert.That(row.N, Is.EqualTo(30));
        Assert.That(row.Pearson, Is.InRange(row.PearsonCi.Lo, row.PearsonCi.Hi));
        Assert.That(row.Spearman, Is.InRange(row.SpearmanCi.Lo, row.SpearmanCi.Hi));
        Assert.That(row.R2, Is.InRange(row.R2Ci.Lo, row.R2Ci.Hi));
        Assert.That(row.PearsonCi.Lo, Is.LessThan(row.PearsonCi.Hi));
        // Same seed ⇒ same resamples ⇒ a 50 % interval lies inside the 95 % one.
        var wide = Bootstrap.PercentileInterval(x, y, PearsonR, level: 0.95);
        var narrow = Bootstrap.PercentileInterval(x, y, PearsonR, level: 0.5);
        Assert.That(narrow.Lo, Is.GreaterThanOrEqualTo(wide.Lo));
        Assert.That(narrow.Hi, Is.LessThanOrEqualTo(wide.Hi));
        Assert.That((row.PearsonCi.Lo, row.PearsonCi.Hi), Is.EqualTo((wide.Lo, wide.Hi)));
    }

    [Test]
    public void BootstrapOfAPerfectlyLinearSetIsTheSinglePointOne()
    {
        // y = 2x: doubling is exact in floating point, so every resample has ȳ* = 2x̄* and dy = 2dx exactly,
        // hence r* = 1, R²* = 1 and ρ* = 1 with no rounding (y = 2x + 1 would leave ~1e-16 errors).
        double[] x = [0.3, 1.1, 2.9, 3.7, 4.2, 5.5, 6.1, 7.8, 8.4, 9.6];
        double[] y = x.Select(v => 2 * v).ToArray();
        var row = CorrelationRow.Of("linear", x, y);
        Assert.That(row.PearsonCi, Is.EqualTo((1.0, 1.0)));
        Assert.That(row.SpearmanCi, Is.EqualTo((1.0, 1.0)));
        Assert.That(row.R2Ci, Is.EqualTo((1.0, 1.0)));
        Assert.That((row.Pearson, row.PearsonP, row.R2, row.Spearman, row.SpearmanP), Is.EqualTo((1.0, 0.0, 1.0, 1.0, 0.0)));
    }

    [Test]
    public void BootstrapSkipsAndCountsResamplesWithAConstantSide()
    {
        // x = 0 0 1: a resample of 3 draws is constant with probability (2/3)³ + (1/3)³ = 9/27 = 1/3,
        // so about 1000 of 3000 resamples are skipped (binomial sd ≈ 26).
        double[] x = [0, 0, 1];
        double[] y = [1, 2, 3];
        var interval = Bootstrap.PercentileInterval(x, y, PearsonR, resamples: 3000);
        Assert.That(interval.Used + interval.Skipped, Is.EqualTo(3000));
        Assert.That(interval.Skipped, Is.InRange(900, 1100));

        var none = Bootstrap.PercentileInterval([1, 1, 1], [1, 2, 3], PearsonR, resamples: 50);
        Assert.That((none.Used, none.Skipped), Is.EqualTo((0, 50)));
        Assert.That(double.IsNaN(none.Lo) && double.IsNaN(none.Hi), Is.True);
    }

    [Test]
    public void PercentileEndsInterpolateBetweenOrderStatistics()
    {
        // A statistic that ignores the data and counts its calls 0, 1, …, 199, returning NaN on odd calls:
        // 100 resamples are skipped and the estimates are 0, 2, …, 198 (i.e. 2j for j = 0..99).
        // Type-7 quantile at τ: position h = τ·(m − 1) = τ·99 in the sorted estimates, linear in between:
        // τ = 0.025 → h = 2.475 → 2·2.475 = 4.95; τ = 0.975 → h = 96.525 → 193.05.
        int calls = 0;
        double Counter(IReadOnlyList<double> x, IReadOnlyList<double> y) => calls++ % 2 == 1 ? double.NaN : calls - 1;
        var interval = Bootstrap.PercentileInterval([1, 2, 3], [1, 2, 3], Counter, resamples: 200);
        Assert.That((interval.Used, interval.Skipped), Is.EqualTo((100, 100)));
        Assert.That(interval.Lo, Is.EqualTo(4.95).Within(1e-12));
        Assert.That(interval.Hi, Is.EqualTo(193.05).Within(1e-12));
    }

    [Test]
    public void RowOfTheHandExample()
    {
        var row = CorrelationRow.Of("coupling", [1, 2, 3, 4], [1, 3, 2, 4], resamples: 200);
        Assert.That(row.Predictor, Is.EqualTo("coupling"));
        Assert.That(row.N, Is.EqualTo(4));
        Assert.That(row.R2, Is.EqualTo(0.64).Within(1e-15));
        Assert.That(row.Pearson, Is.EqualTo(0.8).Within(1e-15));
        Assert.That(row.PearsonP, Is.EqualTo(0.2).Within(1e-12));
        Assert.That(row.Spearman, Is.EqualTo(0.8).Within(1e-15));
        Assert.That(row.SpearmanP, Is.EqualTo(0.2).Within(1e-12));
        Assert.That(row.R2Ci.Lo, Is.GreaterThanOrEqualTo(0));
        Assert.That(row.R2Ci.Hi, Is.LessThanOrEqualTo(1));
    }
}
