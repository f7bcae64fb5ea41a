namespace Forge.Experiments.Affine;

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
