using System.Text.Json.Nodes;

namespace Forge.Experiments.Affine;

/// <summary>What the attention analysis measured on one head.</summary>
/// <param name="Similarity">The score-on-similarity slope per measure, indexed by <see cref="SimilarityMeasure"/>.</param>
/// <param name="Verdict"><see cref="NegativeSimilarityRule.Judge"/> of <paramref name="Similarity"/>.</param>
/// <param name="QkTokenScalar">W_E·W_Q·W_Kᵀ·W_Eᵀ/√d_head with LayerNorm folded (see <see cref="AffineAttention.TokenQkScalars"/>):
/// the token–token part of the score is x_i·x_j times this over the two tokens' LayerNorm scales. Exact for layer 0; a diagnostic for later layers.</param>
/// <param name="AttentionToCurrent">Mean pattern weight of query i on key i, over queries i ≥ 1.</param>
/// <param name="AttentionToPrevious">Mean pattern weight of query i on key i − 1, over queries i ≥ 1.</param>
/// <param name="OutputCorrelationWithCurrent">Correlation of the head's direct contribution to the prediction with x_i (centred per position, pooled): high for a copy head.</param>
/// <param name="OutputCorrelationWithCorrection">The same with x_{i+1} − x_i = a·(x_i − x_{i−1}), what a refinement of the copy must add.</param>
/// <param name="OutputStd">Standard deviation of the direct contribution (centred per position): a head whose output is tiny matters little whatever it correlates with.</param>
public sealed record HeadAttention(int Layer, int Head, IReadOnlyList<SlopeEstimate> Similarity, SimilarityVerdict Verdict, double QkTokenScalar,
    double AttentionToCurrent, double AttentionToPrevious, double OutputCorrelationWithCurrent, double OutputCorrelationWithCorrection, double OutputStd)
{
    public string Name => $"L{Layer}H{Head}";

    public SlopeEstimate this[SimilarityMeasure measure] => Similarity[(int)measure];

    public JsonObject ToJson()
    {
        var similarity = new JsonObject();
        foreach (var measure in Enum.GetValues<SimilarityMeasure>()) similarity[NegativeSimilarityRule.Key(measure)] = this[measure].ToJson();
        return new JsonObject
        {
            ["layer"] = Layer, ["head"] = Head,
            ["verdict"] = NegativeSimilarityRule.Text(Verdict),
            ["similarity"] = similarity,
            ["qk_token_scalar"] = Finite(QkTokenScalar),
            ["attention_to_current"] = Finite(AttentionToCurrent), ["attention_to_previous"] = Finite(AttentionToPrevious),
            ["output_corr_current"] = Finite(OutputCorrelationWithCurrent), ["output_corr_correction"] = Finite(OutputCorrelationWithCorrection),
            ["output_std"] = Finite(OutputStd),
        };
    }

    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}

/// <summary>Everything <see cref="AffineAttention.Measure"/> found on one model.</summary>
/// <param name="Sequences">Test sequences used.</param>
/// <param name="Positions">Positions per sequence.</param>
/// <param name="MeanPatterns">[layer][head] → mean pattern [query, key] over the test sequences.</param>
/// <param name="ExampleA">The a of the example sequences (a &gt; 0 first, then a &lt; 0), NaN where none was found.</param>
/// <param name="Figures">Figure key → path in the run folder.</param>
public sealed record AffineAttentionResult(int Sequences, int Positions, IReadOnlyList<HeadAttention> Heads, double[][][,] MeanPatterns,
    double[] ExampleA, IReadOnlyDictionary<string, string> Figures)
{
    public HeadAttention Head(int layer, int head) => Heads.Single(h => h.Layer == layer && h.Head == head);

    /// <summary>The heads <see cref="NegativeSimilarityRule"/> calls negative-similarity, by name (L2H1, …).</summary>
    public IReadOnlyList<string> NegativeSimilarityHeads => Heads.Where(h => h.Verdict == SimilarityVerdict.NegativeSimilarity).Select(h => h.Name).ToList();

    /// <summary>The numbers for analysis.json (the sweep report aggregates them across seeds): per head, and the rule's constants.</summary>
    public JsonObject AnalysisNumbers() => new()
    {
        ["sequences"] = Sequences,
        ["rule"] = new JsonObject
        {
            ["confidence_level"] = SimilarityRegression.ConfidenceLevel,
            ["min_r_squared"] = NegativeSimilarityRule.MinRSquared,
            ["deciding_measures"] = new JsonArray(NegativeSimilarityRule.DecidingMeasures.Select(m => (JsonNode?)NegativeSimilarityRule.Key(m)).ToArray()),
        },
        ["negative_similarity_heads"] = new JsonArray(NegativeSimilarityHeads.Select(n => (JsonNode?)n).ToArray()),
        ["heads"] = new JsonArray(Heads.Select(h => (JsonNode?)h.ToJson()).ToArray()),
    };
}
