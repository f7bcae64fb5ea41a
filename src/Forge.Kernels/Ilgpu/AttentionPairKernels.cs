using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Device code of <see cref="IlgpuAttention"/> when one (batch, head) pair fits a group's shared memory: one group
/// per pair does the whole forward (or the whole backward) of that pair, its q, k, v (or dz, v, then q, k) and its
/// (t, t) square staged once in shared memory, instead of one group per query row reading every key and value from
/// global memory again (<see cref="AttentionKernels"/>, which stays for the pairs that do not fit).
/// <para>
/// Layout of the dynamic shared memory, in elements of T: two or three (t, rowPitch) blocks of rows, then the
/// (t, squarePitch) square, then (backward) t weighted means. The pitches are the row lengths made odd, so that
/// threads reading the same column of consecutive rows (a key's values, a row's softmax) hit different banks.
/// Every output element is written by exactly one thread and every sum runs in a fixed order: the results are
/// deterministic, and the same for every group size.
/// </para>
/// </summary>
internal static class AttentionPairKernels
{
    /// <summary>A row length made odd (gcd with the 32 banks = 1).</summary>
    public static int Pitch(int length) => length | 1;

    /// <summary>Shared elements the forward needs: q, k, v rows and the square.</summary>
    public static long ForwardElements(int t, int dHead) => 3L * t * Pitch(dHead) + (long)t * Pitch(t);

    /// <summary>Shared elements the backward needs: two blocks of rows (dz, v; then q, k), the square and t means.</summary>
    public static long BackwardElements(int t, int dHead) => 2L * t * Pitch(dHead) + (long)t * Pitch(t) + t;

    /// <summary>
    /// One group per pair (Grid.IdxX): scores = scale·q·kᵀ (−∞ above the diagonal), pattern = softmax of each
    /// row over keys 0..i, z = pattern·v.
    /// </summary>
    internal static void ForwardPair<T>(AttentionArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pair = PairLayout.Of(s);
        int t = pair.T, kAt = t * pair.Pitch, vAt = 2 * t * pair.Pitch, sAt = 3 * t * pair.Pitch;
        var shared = SharedMemory.GetDynamic<T>();
        StageRows(shared, pair, 0, s.Q);
        StageRows(shared, pair, kAt, s.K);
        StageRows(shared, pair, vAt, s.V);
        Group.Barrier();

        // scores[i, j] = scale·q_i·k_j for j ≤ i, −∞ above the diagonal.
        for (int e = Group.IdxX; e < t * t; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            T score = T.NegativeInfinity;
            if (j <= i)
            {
                T dot = T.Zero;
                for (int d = 0; d < pair.DHead; d++) dot += shared[i * pair.Pitch + d] * shared[kAt + j * pair.Pitch + d];
                score = s.Scale * dot;
            }
            shared[sAt + i * pair.SquarePitch + j] = score;
            s.Scores[pair.Square + e] = score;
        }
        Group.Barrier();

        // pattern row i = softmax over keys 0..i, one thread per row (max, then exp and sum, then the division).
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            int row = sAt + i * pair.SquarePitch;
            T max = shared[row];
            for (int j = 1; j <= i; j++) max = T.Max(max, shared[row + j]);
            T sum = T.Zero;
            for (int j = 0; j <= i; j++)
            {
                T weight = T.Exp(shared[row + j] - max);
                shared[row + j] = weight;
                sum += weight;
            }
            for (int j = 0; j <= i; j++) shared[row + j] /= sum;
            for (int j = i + 1; j < t; j++) shared[row + j] = T.Zero;
        }
        Group.Barrier();

        for (int e = Group.IdxX; e < t * t; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            s.Pattern[pair.Square + e] = shared[sAt + i * pair.SquarePitch + j];
        }
        // z = pattern·v
        LowerTimesRows(shared, pair, sAt, vAt, s.Z, T.One, accumulate: false);
    }

    /// <summary>
    /// One group per pair: the backward of <see cref="ForwardPair{T}"/> (AttentionReference.cs derives each line).
    /// Writes dv, then dk, then dq, a barrier between them, as <see cref="AttentionKernels"/> do: when two gradients
    /// share a buffer the host adds to it (every accumulate flag on) and the adds do not race.
    /// </summary>
    internal static void BackwardPair<T>(AttentionArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pair = PairLayout.Of(s);
        int t = pair.T, bAt = t * pair.Pitch, pAt = 2 * t * pair.Pitch, wAt = pAt + t * pair.SquarePitch;
        var shared = SharedMemory.GetDynamic<T>();

        // Stage dz (block a), v (block b) and the pattern.
        StageRows(shared, pair, 0, s.DZ);
        StageRows(shared, pair, bAt, s.V);
        for (int e = Group.IdxX; e < t * t; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            shared[pAt + i * pair.SquarePitch + j] = s.Pattern[pair.Square + e];
        }
        Group.Barrier();

        // dv = patternᵀ·dz
        LowerTransposedTimesRows(shared, pair, pAt, 0, s.DV, T.One, s.AccumulateDv != 0);
        // dPattern[i, j] = dz_i·v_j on the triangle, 0 above it (kept in the scratch square, read back below).
        for (int e = Group.IdxX; e < t * t; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            T dot = T.Zero;
            if (j <= i)
                for (int d = 0; d < pair.DHead; d++) dot += shared[i * pair.Pitch + d] * shared[bAt + j * pair.Pitch + d];
            s.DPattern[pair.Square + e] = dot;
        }
        Group.Barrier();   // also makes the group's writes of dPattern visible to the whole group

        // The pattern-weighted mean of dPattern's row i, one thread per row, keys in order.
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            T weighted = T.Zero;
            for (int j = 0; j <= i; j++) weighted += shared[pAt + i * pair.SquarePitch + j] * s.DPattern[pair.Square + i * t + j];
            shared[wAt + i] = weighted;
        }
        Group.Barrier();

        // dScores = pattern ⊙ (dPattern − mean), into the pattern's place; q and k replace dz and v.
        for (int e = Group.IdxX; e < t * t; e += Group.DimX)
        {
            int i = e / t, j = e - i * t, at = pAt + i * pair.SquarePitch + j;
            T dScore = j <= i ? shared[at] * (s.DPattern[pair.Square + e] - shared[wAt + i]) : T.Zero;
            shared[at] = dScore;
            s.DScores[pair.Square + e] = dScore;
        }
        StageRows(shared, pair, 0, s.Q);
        StageRows(shared, pair, bAt, s.K);
        Group.Barrier();

        // dk = scale·dScoresᵀ·q
        LowerTransposedTimesRows(shared, pair, pAt, 0, s.DK, s.Scale, s.AccumulateDk != 0);
        Group.Barrier();   // dk before dq, as the row kernels order them
        // dq = scale·dScores·k
        LowerTimesRows(shared, pair, pAt, bAt, s.DQ, s.Scale, s.AccumulateDq != 0);
    }

    /// <summary>Where one pair's rows and square are, in global and in shared memory.</summary>
    readonly struct PairLayout
    {
        public readonly int T, DHead, Pitch, SquarePitch, RowStride;
        public readonly long Rows, Square;   // the pair's first row in the (batch, t, heads, dHead) buffers; its square

        /// <summary>The layout of this group's pair (Grid.IdxX).</summary>
        public static PairLayout Of<TElement>(in AttentionArgs<TElement> s) where TElement : unmanaged =>
            new(s.Time, s.DHead, s.Heads, s.Row(Grid.IdxX, 0), s.Square(Grid.IdxX, 0));

        public PairLayout(int t, int dHead, int heads, long rows, long square)
        {
            (T, DHead, Pitch, SquarePitch, RowStride, Rows, Square) = (t, dHead, AttentionPairKernels.Pitch(dHead), AttentionPairKernels.Pitch(t), heads * dHead, rows, square);
        }
    }

    /// <summary>The pair's t rows of <paramref name="source"/> into shared memory from <paramref name="at"/> on, rows <c>Pitch</c> apart.</summary>
    static void StageRows<T>(ArrayView<T> shared, in PairLayout pair, int at, ArrayView1D<T, Stride1D.Dense> source) where T : unmanaged
    {
        for (int e = Group.IdxX; e < pair.T * pair.DHead; e += Group.DimX)
        {
            int i = e / pair.DHead, d = e - i * pair.DHead;
            shared[at + i * pair.Pitch + d] = source[pair.Rows + (long)i * pair.RowStride + d];
        }
    }

    /// <summary>output_i (+)= scale·Σ_{j ≤ i} lower[i, j]·rows_j, one thread per output value (lower and rows in shared memory).</summary>
    static void LowerTimesRows<T>(ArrayView<T> shared, in PairLayout pair, int lowerAt, int rowsAt, ArrayView1D<T, Stride1D.Dense> output,
        T scale, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int e = Group.IdxX; e < pair.T * pair.DHead; e += Group.DimX)
        {
            int i = e / pair.DHead, d = e - i * pair.DHead;
            T acc = T.Zero;
            for (int j = 0; j <= i; j++) acc += shared[lowerAt + i * pair.SquarePitch + j] * shared[rowsAt + j * pair.Pitch + d];
            long at = pair.Rows + (long)i * pair.RowStride + d;
            output[at] = accumulate ? output[at] + scale * acc : scale * acc;
        }
    }

    /// <summary>output_j (+)= scale·Σ_{i ≥ j} lower[i, j]·rows_i, one thread per output value (lower and rows in shared memory).</summary>
    static void LowerTransposedTimesRows<T>(ArrayView<T> shared, in PairLayout pair, int lowerAt, int rowsAt, ArrayView1D<T, Stride1D.Dense> output,
        T scale, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int e = Group.IdxX; e < pair.T * pair.DHead; e += Group.DimX)
        {
            int j = e / pair.DHead, d = e - j * pair.DHead;
            T acc = T.Zero;
            for (int i = j; i < pair.T; i++) acc += shared[lowerAt + i * pair.SquarePitch + j] * shared[rowsAt + i * pair.Pitch + d];
            long at = pair.Rows + (long)j * pair.RowStride + d;
            output[at] = accumulate ? output[at] + scale * acc : scale * acc;
        }
    }
}
