using System.Globalization;
using System.Numerics;

namespace Forge.Experiments.Explain;

/// <summary>How the walkthroughs print and draw numbers.</summary>
public static class Numbers
{
    /// <summary>Four decimals (inputs: one), invariant culture, never "-0.0000".</summary>
    public static string Format(double value, int decimals = 4)
    {
        if (double.IsNegativeInfinity(value)) return "−∞";
        if (double.IsPositiveInfinity(value)) return "∞";
        double rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0.0 : rounded).ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>1e-8 as "1e-8".</summary>
    public static string Power(double value) => value.ToString("0e0", CultureInfo.InvariantCulture);

    public static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int n = 0; n < values.Length; n++) result[n] = double.CreateChecked(values[n]);
        return result;
    }

    public static T[] From<T>(double[] values) where T : unmanaged, IFloatingPointIeee754<T> =>
        values.Select(T.CreateChecked).ToArray();

    /// <summary>
    /// count numbers in [−magnitude, magnitude], rounded to one decimal so a learner can multiply them by hand.
    /// </summary>
    public static double[] Draw(Rng rng, int count, double magnitude)
    {
        var values = new double[count];
        for (int n = 0; n < count; n++)
        {
            double value = Math.Round(rng.Uniform(-magnitude, magnitude), 1, MidpointRounding.AwayFromZero);
            values[n] = value == 0 ? 0.0 : value;   // no −0
        }
        return values;
    }
}
