using System.Numerics;

namespace Forge.Kernels;

// Causal multi-head self-attention as plain loops: the version to read first. The fast kernel
// (Attention.cs) computes the same numbers and the tests hold the two together.
// docs/attention-backward.md follows this file through a 3-position example by hand, and
// `Forge.Experiments explain attention` prints that example, every step checked numerically.
//
// Shapes: q, k, v and z are [batch, position, head, d_head] (TransformerLens's hook_q, hook_k, hook_v,
// hook_z); scores and pattern are [batch, head, query, key]. Each (batch b, head h) pair is its own
// small problem. So in the formulas below, b and h are left out: i is the query position, j and k
// are key positions and d indexes d_head.
//
// FORWARD: three lines, the three *Forward steps below:
//
//   1. scores[i, j]  = scale · Σ_d q[i, d] · k[j, d]              for j ≤ i;  −∞ for j > i (the causal mask)
//   2. pattern[i, j] = exp(scores[i, j]) / Σ_j' exp(scores[i, j'])   softmax over the keys j
//   3. z[i, d]       = Σ_j pattern[i, j] · v[j, d]
//
// In matrix form: scores = scale·q·kᵀ, pattern = softmax(scores), z = pattern·v, with scale usually
// 1/√d_head. Query i must not see later positions: their scores are −∞, exp(−∞) = 0, so their pattern
// entries are exactly 0 and z[i] is a weighted average of v[0] … v[i].
//
// BACKWARD: the chain rule, one line at a time in reverse order. The caller passes in dz = ∂L/∂z for
// some scalar loss L (in a transformer dz comes from the output projection above). For every buffer X,
// dX means ∂L/∂X, and each one is computed from the one after it:
//
//   3. z = pattern·v, a matrix product:
//        ∂z[i, d]/∂pattern[i, j] = v[j, d]  ⇒  dPattern[i, j]  = Σ_d dz[i, d] · v[j, d]          (dz·vᵀ)
//        ∂z[i, d]/∂v[j, d] = pattern[i, j]  ⇒  dv[j, d]       += Σ_i pattern[i, j] · dz[i, d]    (patternᵀ·dz)
//
//   2. pattern = softmax(scores). The softmax ties a row together: raising one score raises its own
//      weight and lowers all the others. The Jacobian of row i, written out in full:
//        ∂pattern[i, j]/∂scores[i, k] = pattern[i, j] · (δ_jk − pattern[i, k])     (δ_jk = 1 if j = k, else 0)
//      Each score reaches the loss through every entry of its row, so the chain rule sums over j:
//        dScores[i, k] = Σ_j dPattern[i, j] · pattern[i, j] · (δ_jk − pattern[i, k])
//                      = pattern[i, k] · dPattern[i, k]  −  pattern[i, k] · Σ_j pattern[i, j] · dPattern[i, j]
//                      = pattern[i, k] · (dPattern[i, k] − Σ_j pattern[i, j] · dPattern[i, j])
//      The last form is exact, not an approximation. δ_jk keeps only the j = k term of the first sum,
//      and pattern[i, k] does not depend on j, so it can be taken out of the second. The work drops
//      from a t×t matrix per row to one pass over the row. SoftmaxBackwardFullJacobian computes the
//      long form, and a test checks that the two agree.
//      The mask passes no gradient. A masked score is the constant −∞, which does not depend on q or k,
//      and its pattern entry is exactly 0, so the formula gives dScores[i, k] = 0 · (…) = 0 for k > i.
//
//   1. scores = scale·q·kᵀ, a matrix product again:
//        ∂scores[i, j]/∂q[i, d] = scale · k[j, d]  ⇒  dq[i, d] += scale · Σ_j dScores[i, j] · k[j, d]   (scale·dScores·k)
//        ∂scores[i, j]/∂k[j, d] = scale · q[i, d]  ⇒  dk[j, d] += scale · Σ_i dScores[i, j] · q[i, d]   (scale·dScoresᵀ·q)
//
// pattern and dScores are 0 above the diagonal, so every sum only needs the causal triangle j ≤ i.
// Gradients accumulate (+=), as in llm.c: a tensor used twice receives the sum of both contributions,
// and the caller zeroes the gradients once per training step. dPattern and dScores are different:
// they are scratch buffers, overwritten on every call.

/// <summary>
/// Causal multi-head attention as plain loops: the teaching text (derivation at the top of this file)
/// and the obviously-correct version of <see cref="Attention"/> that the tests compare it with. Same
/// arguments, same buffers; no SIMD, no threads. Each chain-rule step is its own public method, so a
/// learner (or <c>Forge.Experiments explain attention</c>) can run and check one step at a time.
/// </summary>
public static class AttentionReference
{
    const string ForwardName = $"{nameof(AttentionReference)}.{nameof(Forward)}";
    const string BackwardName = $"{nameof(AttentionReference)}.{nameof(Backward)}";

    /// <summary>Same contract as <see cref="Attention.Forward{T}"/>: scores, pattern and z are written.</summary>
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

        ScoresForward(q, k, scores, batch, t, heads, dHead, scale);     // 1. scores = scale·q·kᵀ, masked
        SoftmaxForward<T>(scores, pattern, batch, t, heads);            // 2. pattern = softmax(scores)
        WeightedSumForward<T>(pattern, v, z, batch, t, heads, dHead);   // 3. z = pattern·v
    }

    /// <summary>Same contract as <see cref="Attention.Backward{T}"/>: dq, dk, dv accumulate; the scratch buffers are overwritten.</summary>
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

        // The forward steps in reverse: each needs the gradient of the step after it.
        WeightedSumBackward(dz, pattern, v, dPatternScratch, dv, batch, t, heads, dHead);   // 3. z = pattern·v
        SoftmaxBackward(pattern, dPatternScratch, dScoresScratch, batch, t, heads);          // 2. pattern = softmax(scores)
        ScoresBackward(dScoresScratch, q, k, dq, dk, batch, t, heads, dHead, scale);         // 1. scores = scale·q·kᵀ
    }

    // ── Step 1: scores = scale·q·kᵀ, masked ──────────────────────────────────────────────────────

    /// <summary>
    /// scores [batch, head, query, key] = scale · q·kᵀ on and below the diagonal, −∞ above it.
    /// q, k: [batch, position, head, d_head].
    /// </summary>
    public static void ScoresForward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, Span<T> scores,
        int batch, int t, int heads, int dHead, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(ScoresForward)}";
        var shape = AttentionShape.Checked(step, batch, t, heads, dHead);
        shape.CheckRows(step, nameof(q), q.Length);
        shape.CheckRows(step, nameof(k), k.Length);
        shape.CheckSquares(step, nameof(scores), scores.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)          // query position
        for (int j = 0; j < t; j++)          // key position
        {
            if (j > i)
            {
                scores[shape.Square(b, h, i, j)] = T.NegativeInfinity;   // the causal mask: no looking ahead
                continue;
            }
            // scores[i, j] = scale · Σ_d q[i, d] · k[j, d]
            T dot = T.Zero;
            for (int d = 0; d < dHead; d++) dot += q[shape.Row(b, i, h, d)] * k[shape.Row(b, j, h, d)];
            scores[shape.Square(b, h, i, j)] = scale * dot;
        }
    }

    /// <summary>
    /// Backward of <see cref="ScoresForward{T}"/>: dq and dk [batch, position, head, d_head] accumulate
    /// from dScores [batch, head, query, key].
    /// </summary>
    public static void ScoresBackward<T>(ReadOnlySpan<T> dScores, ReadOnlySpan<T> q, ReadOnlySpan<T> k,
        Span<T> dq, Span<T> dk, int batch, int t, int heads, int dHead, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(ScoresBackward)}";
        var shape = AttentionShape.Checked(step, batch, t, heads, dHead);
        shape.CheckSquares(step, nameof(dScores), dScores.Length);
        shape.CheckRows(step, nameof(q), q.Length);
        shape.CheckRows(step, nameof(k), k.Length);
        shape.CheckRows(step, nameof(dq), dq.Length);
        shape.CheckRows(step, nameof(dk), dk.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        for (int j = 0; j <= i; j++)         // above the diagonal the score was the constant −∞: nothing to pass on
        for (int d = 0; d < dHead; d++)
        {
            // forward: scores[i, j] = scale · Σ_d q[i, d] · k[j, d]
            //   ∂scores[i, j]/∂q[i, d] = scale · k[j, d]   and   ∂scores[i, j]/∂k[j, d] = scale · q[i, d]
            T dScore = scale * dScores[shape.Square(b, h, i, j)];
            dq[shape.Row(b, i, h, d)] += dScore * k[shape.Row(b, j, h, d)];   // query i: the keys it saw, weighted by dScores
            dk[shape.Row(b, j, h, d)] += dScore * q[shape.Row(b, i, h, d)];   // key j: the queries that saw it
        }
    }

    // ── Step 2: pattern = softmax(scores), row by row ────────────────────────────────────────────

    /// <summary>
    /// pattern [batch, head, query, key] = softmax of each row of scores over the keys it may see;
    /// every row sums to 1 and the masked entries are exactly 0.
    /// </summary>
    public static void SoftmaxForward<T>(ReadOnlySpan<T> scores, Span<T> pattern, int batch, int t, int heads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(SoftmaxForward)}";
        var shape = AttentionShape.CheckedSquares(step, batch, t, heads);
        shape.CheckSquares(step, nameof(scores), scores.Length);
        shape.CheckSquares(step, nameof(pattern), pattern.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        {
            // pattern[i, j] = exp(scores[i, j]) / Σ_j' exp(scores[i, j'])
            // Subtracting the row's max cancels between numerator and denominator; it only stops exp overflowing.
            T max = T.NegativeInfinity;
            for (int j = 0; j <= i; j++) max = T.Max(max, scores[shape.Square(b, h, i, j)]);
            T sum = T.Zero;
            for (int j = 0; j <= i; j++) sum += T.Exp(scores[shape.Square(b, h, i, j)] - max);
            for (int j = 0; j < t; j++)
                pattern[shape.Square(b, h, i, j)] = j <= i
                    ? T.Exp(scores[shape.Square(b, h, i, j)] - max) / sum
                    : T.Zero;                                   // masked: exp(−∞) = 0, exactly
        }
    }

    /// <summary>
    /// Backward of <see cref="SoftmaxForward{T}"/>, the short form the fast kernel uses:
    /// dScores = pattern ⊙ (dPattern − rowsum(pattern ⊙ dPattern)); all [batch, head, query, key].
    /// dScores is overwritten, not accumulated (a scratch buffer).
    /// </summary>
    public static void SoftmaxBackward<T>(ReadOnlySpan<T> pattern, ReadOnlySpan<T> dPattern, Span<T> dScores,
        int batch, int t, int heads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(SoftmaxBackward)}";
        var shape = AttentionShape.CheckedSquares(step, batch, t, heads);
        shape.CheckSquares(step, nameof(pattern), pattern.Length);
        shape.CheckSquares(step, nameof(dPattern), dPattern.Length);
        shape.CheckSquares(step, nameof(dScores), dScores.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        {
            // forward: pattern[i, j] = exp(scores[i, j]) / Σ_j' exp(scores[i, j'])
            //   dScores[i, k] = Σ_j dPattern[i, j] · pattern[i, j] · (δ_jk − pattern[i, k])    the full Jacobian (SoftmaxBackwardFullJacobian)
            //                 = pattern[i, k] · (dPattern[i, k] − Σ_j pattern[i, j] · dPattern[i, j])   exactly the same (top of the file)
            // The sum is the pattern-weighted mean of the row's dPattern. Raising one score takes weight from
            // all the others, so what counts is how far its key's dPattern is above or below that mean.
            T weightedMean = T.Zero;
            for (int j = 0; j <= i; j++) weightedMean += pattern[shape.Square(b, h, i, j)] * dPattern[shape.Square(b, h, i, j)];
            for (int key = 0; key < t; key++)
                dScores[shape.Square(b, h, i, key)] = key <= i
                    ? pattern[shape.Square(b, h, i, key)] * (dPattern[shape.Square(b, h, i, key)] - weightedMean)
                    : T.Zero;                                   // masked: pattern = 0 there, so no gradient flows through the mask
        }
    }

    /// <summary>
    /// The same result as <see cref="SoftmaxBackward{T}"/>, computed the long way, to show where the
    /// short form comes from: for every row, build the softmax Jacobian (<see cref="SoftmaxJacobian{T}"/>)
    /// and multiply, dScores[i, k] = Σ_j dPattern[i, j] · J[j, k]. t times the work; nothing calls it
    /// on a training path. All buffers [batch, head, query, key]; dScores is overwritten.
    /// </summary>
    public static void SoftmaxBackwardFullJacobian<T>(ReadOnlySpan<T> pattern, ReadOnlySpan<T> dPattern, Span<T> dScores,
        int batch, int t, int heads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(SoftmaxBackwardFullJacobian)}";
        var shape = AttentionShape.CheckedSquares(step, batch, t, heads);
        shape.CheckSquares(step, nameof(pattern), pattern.Length);
        shape.CheckSquares(step, nameof(dPattern), dPattern.Length);
        shape.CheckSquares(step, nameof(dScores), dScores.Length);

        var jacobian = new T[t * t];   // row i's Jacobian J [j, k] over its i + 1 visible keys
        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        {
            int visible = i + 1;
            SoftmaxJacobian(pattern.Slice(shape.Square(b, h, i, 0), visible), jacobian.AsSpan(0, visible * visible));
            for (int key = 0; key < t; key++)
            {
                T sum = T.Zero;   // stays 0 for a masked key: its score never reached the pattern
                if (key <= i)
                    for (int j = 0; j <= i; j++) sum += dPattern[shape.Square(b, h, i, j)] * jacobian[j * visible + key];
                dScores[shape.Square(b, h, i, key)] = sum;
            }
        }
    }

    /// <summary>
    /// The Jacobian of one softmax row, J [j, k] = ∂pattern[j]/∂scores[k] = pattern[j]·(δ_jk − pattern[k]),
    /// from that row's output <paramref name="patternRow"/> (length n); <paramref name="jacobian"/> is [n, n].
    /// The diagonal is positive (a score raises its own weight), everything else negative (and lowers the others').
    /// </summary>
    public static void SoftmaxJacobian<T>(ReadOnlySpan<T> patternRow, Span<T> jacobian) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = patternRow.Length;
        if (jacobian.Length < n * n)
            throw new ArgumentException($"{nameof(AttentionReference)}.{nameof(SoftmaxJacobian)}: jacobian has length {jacobian.Length}, expected at least n·n = {n * n}.", nameof(jacobian));
        for (int j = 0; j < n; j++)
        for (int k = 0; k < n; k++)
            jacobian[j * n + k] = patternRow[j] * ((j == k ? T.One : T.Zero) - patternRow[k]);
    }

    // ── Step 3: z = pattern·v ────────────────────────────────────────────────────────────────────

    /// <summary>z [batch, position, head, d_head] = pattern·v: each query's pattern-weighted average of the values it may see.</summary>
    public static void WeightedSumForward<T>(ReadOnlySpan<T> pattern, ReadOnlySpan<T> v, Span<T> z,
        int batch, int t, int heads, int dHead)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(WeightedSumForward)}";
        var shape = AttentionShape.Checked(step, batch, t, heads, dHead);
        shape.CheckSquares(step, nameof(pattern), pattern.Length);
        shape.CheckRows(step, nameof(v), v.Length);
        shape.CheckRows(step, nameof(z), z.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        for (int d = 0; d < dHead; d++)
        {
            // z[i, d] = Σ_j pattern[i, j] · v[j, d]
            T sum = T.Zero;
            for (int j = 0; j <= i; j++) sum += pattern[shape.Square(b, h, i, j)] * v[shape.Row(b, j, h, d)];
            z[shape.Row(b, i, h, d)] = sum;
        }
    }

    /// <summary>
    /// Backward of <see cref="WeightedSumForward{T}"/>: dPattern [batch, head, query, key] = dz·vᵀ is
    /// overwritten (0 above the diagonal); dv [batch, position, head, d_head] accumulates patternᵀ·dz.
    /// </summary>
    public static void WeightedSumBackward<T>(ReadOnlySpan<T> dz, ReadOnlySpan<T> pattern, ReadOnlySpan<T> v,
        Span<T> dPattern, Span<T> dv, int batch, int t, int heads, int dHead)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string step = $"{nameof(AttentionReference)}.{nameof(WeightedSumBackward)}";
        var shape = AttentionShape.Checked(step, batch, t, heads, dHead);
        shape.CheckSquares(step, nameof(pattern), pattern.Length);
        shape.CheckSquares(step, nameof(dPattern), dPattern.Length);
        shape.CheckRows(step, nameof(dz), dz.Length);
        shape.CheckRows(step, nameof(v), v.Length);
        shape.CheckRows(step, nameof(dv), dv.Length);

        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < t; i++)
        for (int j = 0; j < t; j++)
        {
            // forward: z[i, d] = Σ_j pattern[i, j] · v[j, d]
            //   ∂z[i, d]/∂pattern[i, j] = v[j, d]   and   ∂z[i, d]/∂v[j, d] = pattern[i, j]
            T dot = T.Zero;
            if (j <= i)
            {
                for (int d = 0; d < dHead; d++)
                {
                    dot += dz[shape.Row(b, i, h, d)] * v[shape.Row(b, j, h, d)];                    // how L moves per unit of attention from i to j
                    dv[shape.Row(b, j, h, d)] += pattern[shape.Square(b, h, i, j)] * dz[shape.Row(b, i, h, d)];  // value j's share of each dz[i]
                }
            }
            dPattern[shape.Square(b, h, i, j)] = dot;   // 0 above the diagonal: z never read those pattern entries
        }
    }
}
