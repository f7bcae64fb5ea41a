using System.Numerics;
using Forge.Kernels;

namespace Forge.Experiments.Explain;

/// <summary>
/// Every buffer of the attention example after the engine's forward and backward passes in precision T,
/// kept as float64 for printing (a float32 value converts exactly). One head, batch 1, so the engine's
/// [batch, position, head, d_head] buffers are [position, d_head] and its [batch, head, query, key]
/// buffers are [query, key].
/// </summary>
public sealed class AttentionPasses
{
    public required int T, DHead, DModel;
    public required double Scale;
    public required double[] Q, K, V, WO, DOut;                          // inputs
    public required double[] Scores, Pattern, Z, Out;                    // forward
    public required double[] DZ, DWO, DPattern, DV, DScoresLongWay, DScores, DQ, DK;   // backward
    public required double[] LastRowJacobian;                            // [key, key]: the softmax Jacobian of the last query

    /// <summary>Draws the inputs and runs both passes with the engine's reference code, one step at a time.</summary>
    public static AttentionPasses Compute<T>(AttentionExample example) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = example.Positions, dHead = example.DHead, dModel = example.DModel;
        const int batch = 1, heads = 1;
        var rng = new Rng(example.Seed);
        // q and k a little larger than v, so that the softmax rows are clearly not uniform.
        T[] q = Numbers.From<T>(Numbers.Draw(rng, t * dHead, 2));          // [query, d_head]
        T[] k = Numbers.From<T>(Numbers.Draw(rng, t * dHead, 2));          // [key, d_head]
        T[] v = Numbers.From<T>(Numbers.Draw(rng, t * dHead, 1));          // [key, d_head]
        T[] wO = Numbers.From<T>(Numbers.Draw(rng, dHead * dModel, 1));    // [d_head, d_model]
        T[] dOut = Numbers.From<T>(Numbers.Draw(rng, t * dModel, 1));      // [query, d_model]
        T scale = T.One / T.Sqrt(T.CreateChecked(dHead));

        // Forward: the three steps of AttentionReference.Forward, then the output projection.
        var scores = new T[t * t];          // [query, key]
        var pattern = new T[t * t];         // [query, key]
        var z = new T[t * dHead];           // [query, d_head]
        var output = new T[t * dModel];     // [query, d_model]
        AttentionReference.ScoresForward<T>(q, k, scores, batch, t, heads, dHead, scale);
        AttentionReference.SoftmaxForward<T>(scores, pattern, batch, t, heads);
        AttentionReference.WeightedSumForward<T>(pattern, v, z, batch, t, heads, dHead);
        GemmReference.Run<T>(false, false, t, dModel, dHead, T.One, z, dHead, wO, dModel, T.Zero, output, dModel);

        // Backward in reverse order: the projection, then the three steps of AttentionReference.Backward.
        var dz = new T[t * dHead];
        var dWO = new T[dHead * dModel];
        GemmReference.Run<T>(false, true, t, dHead, dModel, T.One, dOut, dModel, wO, dModel, T.Zero, dz, dHead);   // dz = dOut·W_Oᵀ
        GemmReference.Run<T>(true, false, dHead, dModel, t, T.One, z, dHead, dOut, dModel, T.Zero, dWO, dModel);   // dW_O = zᵀ·dOut
        var dPattern = new T[t * t];
        var dv = new T[t * dHead];
        AttentionReference.WeightedSumBackward<T>(dz, pattern, v, dPattern, dv, batch, t, heads, dHead);
        var dScoresLongWay = new T[t * t];
        AttentionReference.SoftmaxBackwardFullJacobian<T>(pattern, dPattern, dScoresLongWay, batch, t, heads);
        var dScores = new T[t * t];
        AttentionReference.SoftmaxBackward<T>(pattern, dPattern, dScores, batch, t, heads);
        var dq = new T[t * dHead];
        var dk = new T[t * dHead];
        AttentionReference.ScoresBackward<T>(dScores, q, k, dq, dk, batch, t, heads, dHead, scale);
        var jacobian = new T[t * t];
        AttentionReference.SoftmaxJacobian<T>(pattern.AsSpan((t - 1) * t, t), jacobian);

        return new AttentionPasses
        {
            T = t, DHead = dHead, DModel = dModel, Scale = double.CreateChecked(scale),
            Q = Numbers.ToDouble<T>(q), K = Numbers.ToDouble<T>(k), V = Numbers.ToDouble<T>(v),
            WO = Numbers.ToDouble<T>(wO), DOut = Numbers.ToDouble<T>(dOut),
            Scores = Numbers.ToDouble<T>(scores), Pattern = Numbers.ToDouble<T>(pattern),
            Z = Numbers.ToDouble<T>(z), Out = Numbers.ToDouble<T>(output),
            DZ = Numbers.ToDouble<T>(dz), DWO = Numbers.ToDouble<T>(dWO), DPattern = Numbers.ToDouble<T>(dPattern),
            DV = Numbers.ToDouble<T>(dv), DScoresLongWay = Numbers.ToDouble<T>(dScoresLongWay),
            DScores = Numbers.ToDouble<T>(dScores), DQ = Numbers.ToDouble<T>(dq), DK = Numbers.ToDouble<T>(dk),
            LastRowJacobian = Numbers.ToDouble<T>(jacobian),
        };
    }
}
