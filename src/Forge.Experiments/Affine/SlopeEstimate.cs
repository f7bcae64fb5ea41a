using System.Text.Json.Nodes;

namespace Forge.Experiments.Affine;

/// <summary>
/// One slope of <see cref="SimilarityRegression"/>: attention score on a similarity measure, with the
/// query-row and (query, key)-cell effects removed.
/// </summary>
/// <param name="Slope">OLS slope (score units per similarity unit).</param>
/// <param name="StdError">Cluster-robust standard error, sequences as clusters (the one the CI uses).</param>
/// <param name="NaiveStdError">The i.i.d. OLS standard error, for comparison only: pairs of one sequence share
/// the sequence's a, b and terms, so they are not independent and this one is too small.</param>
/// <param name="CiLow">Lower end of the 95 % confidence interval, Slope − t·StdError.</param>
/// <param name="CiHigh">Upper end.</param>
/// <param name="RSquared">Within R²: the share of the score's variation left after the fixed effects that the similarity explains.</param>
/// <param name="Sequences">Sequences (clusters) used.</param>
/// <param name="Pairs">(query, key) pairs that carry information (queries with at least two earlier keys).</param>
public sealed record SlopeEstimate(double Slope, double StdError, double NaiveStdError, double CiLow, double CiHigh, double RSquared, int Sequences, long Pairs)
{
    /// <summary>An estimate for data without variation (e.g. a constant similarity): every number NaN.</summary>
    public static SlopeEstimate Undefined(int sequences, long pairs) => new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, sequences, pairs);

    /// <summary>The whole CI lies below 0.</summary>
    public bool SignificantlyNegative => CiHigh < 0;

    /// <summary>The whole CI lies above 0.</summary>
    public bool SignificantlyPositive => CiLow > 0;

    /// <summary>The within correlation of score and similarity: sign(slope)·√R² (scale-free, comparable across measures).</summary>
    public double Correlation => Math.Sign(Slope) * Math.Sqrt(RSquared);

    public JsonObject ToJson() => new()
    {
        ["slope"] = Finite(Slope), ["std_error"] = Finite(StdError), ["naive_std_error"] = Finite(NaiveStdError),
        ["ci_low"] = Finite(CiLow), ["ci_high"] = Finite(CiHigh), ["r_squared"] = Finite(RSquared),
        ["sequences"] = Sequences, ["pairs"] = Pairs,
    };

    /// <summary>Reads <see cref="ToJson"/>'s object back (null numbers become NaN), e.g. in a sweep report.</summary>
    public static SlopeEstimate FromJson(JsonObject json)
    {
        double Get(string key) => json[key] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN;
        return new SlopeEstimate(Get("slope"), Get("std_error"), Get("naive_std_error"), Get("ci_low"), Get("ci_high"), Get("r_squared"),
            (int)(json["sequences"]?.GetValue<long>() ?? 0), json["pairs"]?.GetValue<long>() ?? 0);
    }

    /// <summary>JSON has no NaN: undefined numbers are written as null.</summary>
    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
