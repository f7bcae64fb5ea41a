using System.Globalization;

namespace Forge.Experiments.Explain;

/// <summary>
/// The "by hand:" lines of a walkthrough: one entry of a step written out as the sum a learner would do
/// on paper, from the printed numbers, ending in the engine's result. The numbers are rounded to at most
/// four decimals, so a hand calculation can differ from the result in the last digit.
/// </summary>
public static class ByHand
{
    /// <summary>"by hand: entry = a · b + c · d = result", or "entry = factor · (a · b + …) = result".</summary>
    public static string Sum(string entry, IEnumerable<(double A, double B)> products, double result, double? factor = null)
    {
        string sum = string.Join(" + ", products.Select(p => $"{Term(p.A)} · {Term(p.B)}"));
        string expression = factor is { } f ? $"{Short(f)} · ({sum})" : sum;
        return $"by hand: {entry} = {expression} = {Short(result)}";
    }

    /// <summary>A number as short as it can be (0.1, -1.2, 0.2173), at most four decimals, never "-0".</summary>
    public static string Short(double value)
    {
        double rounded = Math.Round(value, 4, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0.0 : rounded).ToString("0.####", CultureInfo.InvariantCulture);
    }

    /// <summary>A number inside an expression: negative ones in parentheses, so "a · (-b)" reads unambiguously.</summary>
    public static string Term(double value) => Short(value) is var text && text.StartsWith('-') ? $"({text})" : text;
}
