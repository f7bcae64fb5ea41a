using Forge.Kernels;

namespace Forge.Experiments.Explain;

/// <summary>
/// The attention example's loss L = Σ (z·W_O) ⊙ dOut as a function of each buffer in turn, L(q),
/// L(scores), L(pattern), …, in float64: each runs the rest of the forward pass with the engine's reference
/// steps, so that <see cref="FiniteDifferences"/> can nudge that buffer alone. It starts from the same
/// inputs as the engine's passes (float32 inputs convert to float64 exactly).
/// </summary>
public sealed class AttentionLosses
{
    const int Batch = 1, Heads = 1;
    readonly int _t, _dHead, _dModel;
    readonly double _scale;
    readonly double[] _dOut;

    /// <summary>The point the finite differences are taken at: the inputs and the float64 forward pass from them.</summary>
    public readonly double[] Q, K, V, WO, Scores, Pattern, Z;

    public AttentionLosses(AttentionPasses passes)
    {
        (_t, _dHead, _dModel, _scale, _dOut) = (passes.T, passes.DHead, passes.DModel, passes.Scale, passes.DOut);
        (Q, K, V, WO) = (passes.Q, passes.K, passes.V, passes.WO);
        Scores = ScoresOf(Q, K);
        Pattern = PatternOf(Scores);
        Z = ZOf(Pattern, V);
    }

    public double FromQ(double[] q) => FromScores(ScoresOf(q, K));
    public double FromK(double[] k) => FromScores(ScoresOf(Q, k));
    public double FromScores(double[] scores) => FromPattern(PatternOf(scores));
    public double FromPattern(double[] pattern) => FromZ(ZOf(pattern, V));
    public double FromV(double[] v) => FromZ(ZOf(Pattern, v));
    public double FromZ(double[] z) => Loss(z, WO);
    public double FromWO(double[] wO) => Loss(Z, wO);

    double[] ScoresOf(double[] q, double[] k)
    {
        var scores = new double[_t * _t];
        AttentionReference.ScoresForward<double>(q, k, scores, Batch, _t, Heads, _dHead, _scale);
        return scores;
    }

    double[] PatternOf(double[] scores)
    {
        var pattern = new double[_t * _t];
        AttentionReference.SoftmaxForward<double>(scores, pattern, Batch, _t, Heads);
        return pattern;
    }

    double[] ZOf(double[] pattern, double[] v)
    {
        var z = new double[_t * _dHead];
        AttentionReference.WeightedSumForward<double>(pattern, v, z, Batch, _t, Heads, _dHead);
        return z;
    }

    /// <summary>L = Σ (z·W_O) ⊙ dOut.</summary>
    double Loss(double[] z, double[] wO)
    {
        var output = new double[_t * _dModel];
        GemmReference.Run<double>(false, false, _t, _dModel, _dHead, 1, z, _dHead, wO, _dModel, 0, output, _dModel);
        return FiniteDifferences.Dot(output, _dOut);
    }
}
