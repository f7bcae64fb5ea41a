namespace Forge.Experiments.Affine;

/// <summary>The similarities of query i and key j that the scores are regressed on.</summary>
public enum SimilarityMeasure
{
    /// <summary>x_i·x_j of the raw inputs: what the token–token QK term multiplies under the linear read-in.</summary>
    Product,
    /// <summary>−|x_i − x_j|: larger when the values are closer.</summary>
    NegativeDistance,
    /// <summary>Cosine of the (centred) residual vectors feeding the layer at i and j.</summary>
    ResidualCosine,
}

/// <summary>How a head's scores relate to query–key similarity.</summary>
public enum SimilarityVerdict
{
    /// <summary>Attends more to less similar keys.</summary>
    NegativeSimilarity,
    /// <summary>Attends more to more similar keys.</summary>
    PositiveSimilarity,
    /// <summary>The deciding measures clearly disagree in sign.</summary>
    Mixed,
    /// <summary>Neither sign established by the rule.</summary>
    NoClearRelation,
}

/// <summary>
/// The decision of the negative-similarity test for one head of one model [ours; the paper's numbers are
/// not available]. The <see cref="DecidingMeasures"/> are the two input-space similarities, x_i·x_j and
/// −|x_i − x_j| ("tokens less similar to the current one" in value). A head is <b>negative-similarity</b>
/// when both have a significantly negative slope (95 % CI below 0, cluster-robust,
/// <see cref="SimilarityRegression"/>) <b>and</b> at least one of them explains at least
/// <see cref="MinRSquared"/> of the within variation of the score — with thousands of sequences even a
/// negligible slope is significant, so significance alone would label almost every head. Positive-similarity
/// mirrors it; <b>mixed</b> when one deciding measure is clearly negative (significant with R² ≥
/// <see cref="MinRSquared"/>) and the other significantly positive, or the reverse; otherwise no clear relation.
/// <para>
/// Why the residual cosine does not vote: it is the similarity of what the layer reads, which past layer 0
/// holds much more than the current value (estimates, earlier terms, position), so a head can attend to
/// values unlike its own while attending to residuals like its own; and it is not even under the flip
/// x → −x that leaves the task's distribution unchanged (when the ranges of b and x_0 are symmetric, as
/// by default), while both input-space
/// measures are — so a head that merely prefers large (or small) key values cannot create a slope on them
/// in expectation, but can on the cosine. It is reported beside them as a diagnostic.
/// </para>
/// Apply the rule per seed; across seeds compare layers, not head indices (heads are interchangeable, so
/// head h of one seed is not head h of another).
/// </summary>
public static class NegativeSimilarityRule
{
    /// <summary>Least within R² of at least one deciding measure (|within correlation| ≥ 0.22).</summary>
    public const double MinRSquared = 0.05;

    /// <summary>The measures that decide the verdict (the residual cosine is a diagnostic).</summary>
    public static IReadOnlyList<SimilarityMeasure> DecidingMeasures { get; } = [SimilarityMeasure.Product, SimilarityMeasure.NegativeDistance];

    /// <summary>The CI excludes 0 on the negative side and R² ≥ <see cref="MinRSquared"/>.</summary>
    public static bool ClearlyNegative(SlopeEstimate e) => e.SignificantlyNegative && e.RSquared >= MinRSquared;

    /// <summary>The CI excludes 0 on the positive side and R² ≥ <see cref="MinRSquared"/>.</summary>
    public static bool ClearlyPositive(SlopeEstimate e) => e.SignificantlyPositive && e.RSquared >= MinRSquared;

    /// <summary>The verdict from one head's estimates, indexed by <see cref="SimilarityMeasure"/> (the analysis gives all three).</summary>
    public static SimilarityVerdict Judge(IReadOnlyList<SlopeEstimate> byMeasure)
    {
        var deciding = DecidingMeasures.Select(m => byMeasure[(int)m]).ToList();
        bool strong = deciding.Any(e => e.RSquared >= MinRSquared);
        if (strong && deciding.All(e => e.SignificantlyNegative)) return SimilarityVerdict.NegativeSimilarity;
        if (strong && deciding.All(e => e.SignificantlyPositive)) return SimilarityVerdict.PositiveSimilarity;
        if ((deciding.Any(ClearlyNegative) && deciding.Any(e => e.SignificantlyPositive)) ||
            (deciding.Any(ClearlyPositive) && deciding.Any(e => e.SignificantlyNegative))) return SimilarityVerdict.Mixed;
        return SimilarityVerdict.NoClearRelation;
    }

    /// <summary>True when <see cref="Judge"/> says negative-similarity.</summary>
    public static bool IsNegativeSimilarity(IReadOnlyList<SlopeEstimate> byMeasure) => Judge(byMeasure) == SimilarityVerdict.NegativeSimilarity;

    /// <summary>The verdict as analysis.json and the report write it.</summary>
    public static string Text(SimilarityVerdict verdict) => verdict switch
    {
        SimilarityVerdict.NegativeSimilarity => "negative-similarity",
        SimilarityVerdict.PositiveSimilarity => "positive-similarity",
        SimilarityVerdict.Mixed => "mixed",
        _ => "no clear relation",
    };

    /// <summary>The key of a measure in analysis.json.</summary>
    public static string Key(SimilarityMeasure measure) => measure switch
    {
        SimilarityMeasure.Product => "product",
        SimilarityMeasure.NegativeDistance => "negative_distance",
        _ => "residual_cosine",
    };
}
