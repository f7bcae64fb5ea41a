using System.Text.Json.Nodes;

namespace Forge.Experiments.Affine;

/// <summary>
/// An ordinary least-squares line y ≈ Slope·x + Intercept over <see cref="Count"/> points, with its
/// coefficient of determination R² = 1 − SS_res/SS_tot (for one regressor the square of Pearson's r).
/// Undefined quantities are NaN: the slope when x is constant, R² when x or y is constant.
/// </summary>
public sealed record LinearFit(double Slope, double Intercept, double RSquared, int Count)
{
    /// <summary>Pearson's correlation of x and y: sign(slope)·√R².</summary>
    public double Correlation => Math.Sign(Slope) * Math.Sqrt(RSquared);

    /// <summary>Fits y on x over the points where <paramref name="include"/> is true (all when null). Sums in double, centred (two passes).</summary>
    public static LinearFit Of(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<bool> include = default)
    {
        if (x.Length != y.Length || (!include.IsEmpty && include.Length != x.Length))
            throw new ArgumentException($"LinearFit: {x.Length} x values, {y.Length} y values and {include.Length} include flags");
        int count = 0;
        double sumX = 0, sumY = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (!include.IsEmpty && !include[i]) continue;
            count++;
            sumX += x[i];
            sumY += y[i];
        }
        if (count == 0) return new LinearFit(double.NaN, double.NaN, double.NaN, 0);
        double meanX = sumX / count, meanY = sumY / count, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (!include.IsEmpty && !include[i]) continue;
            double dx = x[i] - meanX, dy = y[i] - meanY;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }
        double slope = sxx > 0 ? sxy / sxx : double.NaN;
        double rSquared = sxx > 0 && syy > 0 ? Math.Clamp(sxy * sxy / (sxx * syy), 0, 1) : double.NaN;
        return new LinearFit(slope, meanY - (double.IsNaN(slope) ? 0 : slope) * meanX, rSquared, count);
    }

    public JsonObject ToJson() => new()
    {
        ["slope"] = AffineFormat.Number(Slope), ["intercept"] = AffineFormat.Number(Intercept),
        ["r2"] = AffineFormat.Number(RSquared), ["count"] = Count,
    };
}

/// <summary>
/// Least squares with two regressors, y ≈ W1·x1 + W2·x2 + Intercept, and its R²: which of two correlated
/// variables (x_n and x_{n+1}) a read-out follows once the other is accounted for.
/// </summary>
public sealed record TwoRegressorFit(double W1, double W2, double Intercept, double RSquared)
{
    public static TwoRegressorFit Of(ReadOnlySpan<double> x1, ReadOnlySpan<double> x2, ReadOnlySpan<double> y, ReadOnlySpan<bool> include)
    {
        int count = 0;
        double m1 = 0, m2 = 0, my = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (!include[i]) continue;
            count++;
            m1 += x1[i]; m2 += x2[i]; my += y[i];
        }
        if (count == 0) return new TwoRegressorFit(double.NaN, double.NaN, double.NaN, double.NaN);
        m1 /= count; m2 /= count; my /= count;
        double s11 = 0, s22 = 0, s12 = 0, s1y = 0, s2y = 0, syy = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (!include[i]) continue;
            double d1 = x1[i] - m1, d2 = x2[i] - m2, dy = y[i] - my;
            s11 += d1 * d1; s22 += d2 * d2; s12 += d1 * d2;
            s1y += d1 * dy; s2y += d2 * dy; syy += dy * dy;
        }
        // Normal equations [s11 s12; s12 s22]·[w1; w2] = [s1y; s2y], solved by Cramer's rule.
        double determinant = s11 * s22 - s12 * s12;
        if (!(determinant > 1e-12 * s11 * s22)) return new TwoRegressorFit(double.NaN, double.NaN, double.NaN, double.NaN);
        double w1 = (s1y * s22 - s2y * s12) / determinant, w2 = (s2y * s11 - s1y * s12) / determinant;
        double explained = w1 * s1y + w2 * s2y;   // SS_reg of a least-squares fit
        return new TwoRegressorFit(w1, w2, my - w1 * m1 - w2 * m2, syy > 0 ? Math.Clamp(explained / syy, 0, 1) : double.NaN);
    }
}
