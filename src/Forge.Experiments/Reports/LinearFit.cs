using System.Text.Json.Nodes;

namespace Forge.Experiments.Reports;

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
        ["slope"] = Number(Slope), ["intercept"] = Number(Intercept),
        ["r2"] = Number(RSquared), ["count"] = Count,
    };

    static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
