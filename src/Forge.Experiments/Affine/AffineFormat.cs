using System.Globalization;
using System.Text.Json.Nodes;

namespace Forge.Experiments.Affine;

/// <summary>
/// What the affine analyses share in their tables and analysis.json: head names in TransformerLens style
/// (<c>L2H1</c> = layer 2, head 1), invariant number formats, and non-finite numbers written as JSON null.
/// </summary>
static class AffineFormat
{
    public static string HeadName(int layer, int head) => $"L{layer}H{head}";

    /// <summary>Fixed-point with <paramref name="digits"/> decimals; "–" when not finite.</summary>
    public static string F(double v, int digits = 3) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";

    /// <summary>Scientific with 3 significant decimals (MSEs span many orders of magnitude).</summary>
    public static string E(double v) => double.IsFinite(v) ? v.ToString("0.000e0", CultureInfo.InvariantCulture) : "–";

    public static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(Number).ToArray());

    /// <summary>The key of a sign group in analysis.json: "all", "a_pos" (a &gt; 0), "a_neg" (a &lt; 0).</summary>
    public static string GroupKey(string group) => group switch
    {
        "all" => "all",
        "a > 0" => "a_pos",
        "a < 0" => "a_neg",
        _ => throw new ArgumentException($"AffineFormat: no key for group '{group}'"),
    };

    /// <summary>Positions 0, 1, … as x values of figures.</summary>
    public static double[] PositionAxis(int positions) => Enumerable.Range(0, positions).Select(n => (double)n).ToArray();
}
