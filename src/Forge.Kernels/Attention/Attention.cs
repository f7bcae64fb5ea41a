using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

// Causal multi-head self-attention, the fast version. The derivation of every line, forward and
// backward, is at the top of AttentionReference.cs (the same algorithm as plain loops): read that first.
//
// What is different here: the (batch, head) pairs run in parallel, the products are SIMD along d_head
// (CausalProducts), and since pattern and dScores are 0 above the diagonal, every product in both
// passes only touches the causal (lower) triangle, which halves the work.

/// <summary>
/// Fused causal multi-head attention (softmax(scale·q·kᵀ + causal mask)·v), forward and backward,
/// for buffers in the layout of TransformerLens's hooks.
/// </summary>
public static unsafe class Attention
{
    const string ForwardName = $"{nameof(Attention)}.{nameof(Forward)}", BackwardName = $"{nameof(Attention)}.{nameof(Backward)}";

    /// <summary>
    /// Forward pass. Each (batch, head) pair runs on one thread, so results do not depend on the
    /// thread count.
    /// </summary>
    /// <param name="q">Queries, (batch, t, heads, dHead) — x·W_Q reshaped, TransformerLens's hook_q.</param>
    /// <param name="k">Keys, (batch, t, heads, dHead).</param>
    /// <param name="v">Values, (batch, t, heads, dHead).</param>
    /// <param name="scores">Output (batch, heads, t, t), hook_attn_scores: scale·q·kᵀ for key ≤ query;
    /// −∞ above the diagonal (masked; exp(−∞) = 0).</param>
    /// <param name="pattern">Output (batch, heads, t, t), hook_pattern: softmax of scores over keys;
    /// each row sums to 1, entries above the diagonal are exactly 0.</param>
    /// <param name="z">Output (batch, t, heads, dHead), hook_z: pattern·v.</param>
    /// <param name="scale">Usually 1/√dHead.</param>
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
        if (shape.IsEmpty) return;

        fixed (T* qPtr = q, kPtr = k, vPtr = v, scoresPtr = scores, patternPtr = pattern, zPtr = z)
        {
            var job = new Job<T>
            {
                Shape = shape, Scale = scale,
                Q = qPtr, K = kPtr, V = vPtr, Scores = scoresPtr, Pattern = patternPtr, Z = zPtr,
            };
            ForkJoin.For(batch * heads, &job, &ForwardPairs<T>, shape.MinPairsPerBlock);
        }
    }

    /// <summary>
    /// Backward pass: given dz and the saved q, k, v and pattern, ADDS the gradients to dq, dk, dv — or
    /// writes them, for each whose accumulate flag is false (its old contents, even NaN, are never read).
    /// </summary>
    /// <param name="dz">∂L/∂z, (batch, t, heads, dHead).</param>
    /// <param name="q">Saved queries, (batch, t, heads, dHead).</param>
    /// <param name="k">Saved keys, (batch, t, heads, dHead).</param>
    /// <param name="v">Saved values, (batch, t, heads, dHead).</param>
    /// <param name="pattern">Saved pattern from <see cref="Forward{T}"/>, (batch, heads, t, t).</param>
    /// <param name="dPatternScratch">(batch, heads, t, t), overwritten with ∂L/∂pattern on and below the
    /// diagonal (dz·vᵀ) and 0 above it (not computed).</param>
    /// <param name="dScoresScratch">(batch, heads, t, t), overwritten with ∂L/∂scores; 0 above the diagonal.</param>
    /// <param name="dq">Accumulates ∂L/∂q, (batch, t, heads, dHead).</param>
    /// <param name="dk">Accumulates ∂L/∂k, (batch, t, heads, dHead).</param>
    /// <param name="dv">Accumulates ∂L/∂v, (batch, t, heads, dHead).</param>
    /// <param name="scale">The scale the forward pass used.</param>
    /// <param name="accumulateDq">False: overwrite dq instead of adding to it (likewise for dk and dv).</param>
    public static void Backward<T>(ReadOnlySpan<T> dz, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<T> pattern, Span<T> dPatternScratch, Span<T> dScoresScratch,
        Span<T> dq, Span<T> dk, Span<T> dv, int batch, int t, int heads, int dHead, T scale,
        bool accumulateDq = true, bool accumulateDk = true, bool accumulateDv = true)
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
        if (shape.IsEmpty) return;

        fixed (T* dzPtr = dz, qPtr = q, kPtr = k, vPtr = v, patternPtr = pattern,
               dPatternPtr = dPatternScratch, dScoresPtr = dScoresScratch, dqPtr = dq, dkPtr = dk, dvPtr = dv)
        {
            var job = new Job<T>
            {
                Shape = shape, Scale = scale,
                Q = qPtr, K = kPtr, V = vPtr, Pattern = patternPtr, DZ = dzPtr,
                DPattern = dPatternPtr, DScores = dScoresPtr, DQ = dqPtr, DK = dkPtr, DV = dvPtr,
                AccumulateDq = accumulateDq, AccumulateDk = accumulateDk, AccumulateDv = accumulateDv,
            };
            ForkJoin.For(batch * heads, &job, &BackwardPairs<T>, shape.MinPairsPerBlock);
        }
    }

    /// <summary>Forward for one (batch, head) pair. Rows of q, k, v, z are rowStride = heads·dHead apart.</summary>
    static void ForwardPair<T>(in Job<T> job, int pair) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = job.Shape.T, dHead = job.Shape.DHead, rowStride = job.Shape.RowStride;
        long rows = job.Shape.RowOffset(pair), square = job.Shape.SquareOffset(pair);
        T* q = job.Q + rows, k = job.K + rows, v = job.V + rows, z = job.Z + rows;
        T* scores = job.Scores + square, pattern = job.Pattern + square;   // both (t, t)

        // scores = scale·q·kᵀ on the causal triangle, −∞ above it.
        CausalProducts.RowDots(q, k, scores, t, dHead, rowStride, job.Scale, T.NegativeInfinity);

        // pattern = softmax(scores), each row over the keys 0..i its query can see; 0 above the diagonal.
        SoftmaxRows(scores, pattern, t);

        // z = pattern·v, each query's output a pattern-weighted sum of the values it can see.
        CausalProducts.LowerTimesRows(pattern, v, z, t, dHead, rowStride, T.One, accumulate: false);
    }

    /// <summary>Backward for one (batch, head) pair: the forward lines, differentiated in reverse order.</summary>
    static void BackwardPair<T>(in Job<T> job, int pair) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = job.Shape.T, dHead = job.Shape.DHead, rowStride = job.Shape.RowStride;
        long rows = job.Shape.RowOffset(pair), square = job.Shape.SquareOffset(pair);
        T* q = job.Q + rows, k = job.K + rows, v = job.V + rows, dz = job.DZ + rows;       // (t, dHead) each
        T* dq = job.DQ + rows, dk = job.DK + rows, dv = job.DV + rows;                     // (t, dHead) each
        T* pattern = job.Pattern + square, dPattern = job.DPattern + square, dScores = job.DScores + square; // (t, t)

        // Step 1 — forward: z = pattern·v   (z, v: (t, dHead); pattern: (t, t))
        //   dPattern = dz·vᵀ        (t, t): dPattern[i, j] = dz_i·v_j, how L moves per unit of attention from i to j
        //   dv      += patternᵀ·dz  (t, dHead): value j went into every later z_i with weight pattern[i, j],
        //                           so it collects that share of each dz_i
        // (Each "+=" is "=" when that gradient's accumulate flag is off: the first contribution in a pass.)
        CausalProducts.RowDots(dz, v, dPattern, t, dHead, rowStride, T.One, T.Zero);
        CausalProducts.LowerTransposedTimesRows(pattern, dz, dv, t, dHead, rowStride, T.One, job.AccumulateDv);

        // Step 2 — forward: pattern[i, :] = softmax(scores[i, :])   (both (t, t))
        //   dScores[i, j] = pattern[i, j]·(dPattern[i, j] − Σ_j' pattern[i, j']·dPattern[i, j'])
        //   The sum is the pattern-weighted mean of row i of dPattern: raising one score takes weight
        //   from all the others, so what counts is each entry's dPattern relative to that mean.
        SoftmaxBackwardRows(pattern, dPattern, dScores, t);

        // Step 3 — forward: scores = scale·q·kᵀ   (q, k: (t, dHead); scores: (t, t))
        //   dq += scale·dScores·k    (t, dHead): query i's gradient is a dScores-weighted sum of the keys it saw
        //   dk += scale·dScoresᵀ·q   (t, dHead): key j's gradient is a dScores-weighted sum of the queries that saw it
        CausalProducts.LowerTimesRows(dScores, k, dq, t, dHead, rowStride, job.Scale, job.AccumulateDq);
        CausalProducts.LowerTransposedTimesRows(dScores, q, dk, t, dHead, rowStride, job.Scale, job.AccumulateDk);
    }

    /// <summary>pattern[i, :] = softmax(scores[i, :]) for every row of one (t, t) square.</summary>
    static void SoftmaxRows<T>(T* scores, T* pattern, int t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Subtracting each row's max leaves its softmax unchanged and keeps exp from overflowing.
        // The masked −∞ entries stay −∞ and exp(−∞) = 0 turns them into exact zeros, so a single
        // vectorised exp over the whole square serves every row. (The subtraction and the division are
        // elementwise, so the hand-written vector loops give TensorPrimitives' bits; the exp and the row
        // sums stay TensorPrimitives', whose results depend on how they are vectorised.)
        for (int i = 0; i < t; i++)
        {
            T* scoreRow = scores + (long)i * t;
            T max = scoreRow[0];
            for (int j = 1; j <= i; j++) max = T.Max(max, scoreRow[j]);
            RowMinus(scoreRow, max, pattern + (long)i * t, t);
        }
        ExpInPlace(pattern, t * t);
        for (int i = 0; i < t; i++)
        {
            T* visible = pattern + (long)i * t;
            RowDivide(visible, TensorPrimitives.Sum<T>(new ReadOnlySpan<T>(visible, i + 1)), i + 1);
        }
    }

    /// <summary>
    /// x = exp(x) over <paramref name="count"/> elements with <c>TensorPrimitives.Exp</c>, whose bits must not depend on
    /// where the square lies in memory. For double they would: on AVX2 machines the library computes a 256-bit vector
    /// that holds a −∞ (every masked entry) through a fix-up that rounds its finite lanes differently from the vector
    /// polynomial, and which elements share a vector follows the destination's alignment — which for a managed array
    /// changes from run to run and when the GC moves it (double attention gave other last bits on every second call).
    /// So doubles go through a 64-byte-aligned copy, where the grouping depends on the count alone. Floats are
    /// computed in place: their results do not depend on alignment (<c>AttentionTests</c> checks both).
    /// </summary>
    static void ExpInPlace<T>(T* x, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new Span<T>(x, count);
        if (typeof(T) != typeof(double))
        {
            TensorPrimitives.Exp(values, values);
            return;
        }
        var aligned = new Span<T>(AlignedScratch.Get(ref ExpScratch<T>.Buffer, count), count);
        values.CopyTo(aligned);
        TensorPrimitives.Exp(aligned, aligned);
        aligned.CopyTo(values);
    }

    /// <summary>This thread's <see cref="AlignedScratch"/> array for <see cref="ExpInPlace{T}"/>.</summary>
    static class ExpScratch<T> where T : unmanaged
    {
        [ThreadStatic] public static T[]? Buffer;
    }

    /// <summary>output[j] = row[j] − value for j &lt; count.</summary>
    static void RowMinus<T>(T* row, T value, T* output, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var v = Vector256.Create(value);
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) (Vector256.Load(row + j) - v).Store(output + j);
        }
        for (; j < count; j++) output[j] = row[j] - value;
    }

    /// <summary>row[j] = row[j] / divisor for j &lt; count (a division, not a multiplication by the reciprocal).</summary>
    static void RowDivide<T>(T* row, T divisor, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var v = Vector256.Create(divisor);
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) (Vector256.Load(row + j) / v).Store(row + j);
        }
        for (; j < count; j++) row[j] /= divisor;
    }

    /// <summary>
    /// dScores[i, j] = pattern[i, j]·(dPattern[i, j] − Σ_j' pattern[i, j']·dPattern[i, j']) on the causal
    /// triangle, 0 above it. All three are (t, t).
    /// </summary>
    static void SoftmaxBackwardRows<T>(T* pattern, T* dPattern, T* dScores, int t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < t; i++)
        {
            T* patternRow = pattern + (long)i * t, dPatternRow = dPattern + (long)i * t, dScoresRow = dScores + (long)i * t;
            T weightedMean = T.Zero;
            for (int j = 0; j <= i; j++) weightedMean += patternRow[j] * dPatternRow[j];
            int k = 0;
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                var mean = Vector256.Create(weightedMean);
                for (; k + Vector256<T>.Count <= i + 1; k += Vector256<T>.Count)
                    (Vector256.Load(patternRow + k) * (Vector256.Load(dPatternRow + k) - mean)).Store(dScoresRow + k);
            }
            for (; k <= i; k++) dScoresRow[k] = patternRow[k] * (dPatternRow[k] - weightedMean);
            new Span<T>(dScoresRow + i + 1, t - i - 1).Clear();   // masked: no gradient flows through the mask
        }
    }

    static void ForwardPairs<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref readonly var job = ref *(Job<T>*)state;
        for (int pair = begin; pair < end; pair++) ForwardPair(job, pair);
    }

    static void BackwardPairs<T>(void* state, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref readonly var job = ref *(Job<T>*)state;
        for (int pair = begin; pair < end; pair++) BackwardPair(job, pair);
    }

    /// <summary>Everything a worker needs, on the caller's stack; the forward leaves the d* pointers null.</summary>
    struct Job<T> where T : unmanaged
    {
        public AttentionShape Shape;
        public T Scale;
        public T* Q, K, V, Scores, Pattern, Z;               // forward inputs and outputs
        public T* DZ, DPattern, DScores, DQ, DK, DV;         // backward
        public bool AccumulateDq, AccumulateDk, AccumulateDv; // backward: add to dq/dk/dv, or overwrite
    }
}
