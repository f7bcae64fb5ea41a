using System.Numerics;

namespace Forge.Kernels;

/// <summary>
/// Causal multi-head attention as plain loops: the obviously-correct version of
/// <see cref="Attention"/> that tests compare it with. Same arguments, same buffers, same steps
/// (the derivation is at the top of Attention.cs); no SIMD, no threads.
/// </summary>
public static class AttentionReference
{
    const string ForwardName = $"{nameof(AttentionReference)}.{nameof(Forward)}";
    const string BackwardName = $"{nameof(AttentionReference)}.{nameof(Backward)}";

    /// <summary>Same contract as <see cref="Attention.Forward{T}"/>.</summary>
    public static void Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        Span<T> scores, Span<T> pattern, Span<T> z, int batch, int t, int heads, int dHead, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = AttentionShape.Checked(ForwardName, batch, t, heads, dHead);
        shape.CheckRows(ForwardName, nameof(q), q.Length);
        shape.CheckRows(ForwardName, nameof(k), k.Length);
        shape.CheckRows(ForwardName, nameof(v), v.Length);
        shape.CheckSquares(ForwardName, nameof(scores), scores.Length);
        shape.CheckSquares(ForwardName, nameof(pattern), pattern.Length);
        shape.CheckRows(ForwardName, nameof(z), z.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        {
            // scores[i, j] = scale · q_i · k_j for the keys j ≤ i this query may see; −∞ for the rest.
            T max = T.NegativeInfinity;
            for (int j = 0; j < t; j++)
            {
                T score = T.NegativeInfinity;
                if (j <= i)
                {
                    T dot = T.Zero;
                    for (int d = 0; d < dHead; d++) dot += q[Row(b, i, h, d)] * k[Row(b, j, h, d)];
                    score = scale * dot;
                    max = T.Max(max, score);
                }
                scores[Square(b, h, i, j)] = score;
            }

            // pattern[i, :] = softmax(scores[i, :]); subtracting the max changes nothing but avoids overflow.
            T sum = T.Zero;
            for (int j = 0; j <= i; j++)
            {
                T e = T.Exp(scores[Square(b, h, i, j)] - max);
                pattern[Square(b, h, i, j)] = e;
                sum += e;
            }
            for (int j = 0; j < t; j++) pattern[Square(b, h, i, j)] = j <= i ? pattern[Square(b, h, i, j)] / sum : T.Zero;

            // z_i = Σ_j pattern[i, j] · v_j
            for (int d = 0; d < dHead; d++)
            {
                T acc = T.Zero;
                for (int j = 0; j <= i; j++) acc += pattern[Square(b, h, i, j)] * v[Row(b, j, h, d)];
                z[Row(b, i, h, d)] = acc;
            }
        }

        // Index of (b, position, h, d) in a (batch, t, heads, dHead) buffer and of (b, h, i, j) in a (batch, heads, t, t) one.
        int Row(int b, int position, int h, int d) => ((b * t + position) * heads + h) * dHead + d;
        int Square(int b, int h, int i, int j) => ((b * heads + h) * t + i) * t + j;
    }

    /// <summary>Same contract as <see cref="Attention.Backward{T}"/>: dq, dk, dv accumulate.</summary>
    public static void Backward<T>(ReadOnlySpan<T> dz, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> pattern, Span<T> dPatternScratch, Span<T> dScoresScratch,
        Span<T> dq, Span<T> dk, Span<T> dv, int batch, int t, int heads, int dHead, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = AttentionShape.Checked(BackwardName, batch, t, heads, dHead);
        shape.CheckRows(BackwardName, nameof(dz), dz.Length);
        shape.CheckRows(BackwardName, nameof(q), q.Length);
        shape.CheckRows(BackwardName, nameof(k), k.Length);
        shape.CheckRows(BackwardName, nameof(v), v.Length);
        shape.CheckSquares(BackwardName, nameof(pattern), pattern.Length);
        shape.CheckSquares(BackwardName, nameof(dPatternScratch), dPatternScratch.Length);
        shape.CheckSquares(BackwardName, nameof(dScoresScratch), dScoresScratch.Length);
        shape.CheckRows(BackwardName, nameof(dq), dq.Length);
        shape.CheckRows(BackwardName, nameof(dk), dk.Length);
        shape.CheckRows(BackwardName, nameof(dv), dv.Length);
        Span<T> dPattern = dPatternScratch, dScores = dScoresScratch;

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        {
            // Step 1 — forward: z = pattern·v.  dPattern = dz·vᵀ, dv += patternᵀ·dz (causal triangle only).
            for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++)
            {
                T dot = T.Zero;
                if (j <= i)
                {
                    for (int d = 0; d < dHead; d++)
                    {
                        dot += dz[Row(b, i, h, d)] * v[Row(b, j, h, d)];
                        dv[Row(b, j, h, d)] += pattern[Square(b, h, i, j)] * dz[Row(b, i, h, d)];
                    }
                }
                dPattern[Square(b, h, i, j)] = dot;
            }

            // Step 2 — forward: pattern = softmax(scores).  dScores = pattern ⊙ (dPattern − rowsum(pattern ⊙ dPattern)).
            for (int i = 0; i < t; i++)
            {
                T weightedMean = T.Zero;
                for (int j = 0; j <= i; j++) weightedMean += pattern[Square(b, h, i, j)] * dPattern[Square(b, h, i, j)];
                for (int j = 0; j < t; j++)
                    dScores[Square(b, h, i, j)] = j <= i
                        ? pattern[Square(b, h, i, j)] * (dPattern[Square(b, h, i, j)] - weightedMean)
                        : T.Zero;   // masked: no gradient flows through the mask
            }

            // Step 3 — forward: scores = scale·q·kᵀ.  dq += scale·dScores·k, dk += scale·dScoresᵀ·q.
            for (int i = 0; i < t; i++)
            for (int j = 0; j <= i; j++)
            for (int d = 0; d < dHead; d++)
            {
                T dScore = scale * dScores[Square(b, h, i, j)];
                dq[Row(b, i, h, d)] += dScore * k[Row(b, j, h, d)];
                dk[Row(b, j, h, d)] += dScore * q[Row(b, i, h, d)];
            }
        }

        int Row(int b, int position, int h, int d) => ((b * t + position) * heads + h) * dHead + d;
        int Square(int b, int h, int i, int j) => ((b * heads + h) * t + i) * t + j;
    }
}
