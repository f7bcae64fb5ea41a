using System.Numerics;
using ILGPU;

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
        int pair = Grid.IdxX, t = s.Time, dHead = s.DHead, pitch = Pitch(dHead), squarePitch = Pitch(t);
        int rowStride = s.Heads * dHead, rowValues = t * dHead, squareValues = t * t;
        int kAt = t * pitch, vAt = 2 * t * pitch, sAt = 3 * t * pitch;
        long rows = s.Row(pair, 0), square = s.Square(pair, 0);
        var shared = SharedMemory.GetDynamic<T>();

        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int i = e / dHead, d = e - i * dHead;
            long at = rows + (long)i * rowStride + d;
            int to = i * pitch + d;
            shared[to] = s.Q[at];
            shared[kAt + to] = s.K[at];
            shared[vAt + to] = s.V[at];
        }
        Group.Barrier();

        // scores[i, j] = scale·q_i·k_j for j ≤ i, −∞ above the diagonal.
        for (int e = Group.IdxX; e < squareValues; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            T score = T.NegativeInfinity;
            if (j <= i)
            {
                T dot = T.Zero;
                for (int d = 0; d < dHead; d++) dot += shared[i * pitch + d] * shared[kAt + j * pitch + d];
                score = s.Scale * dot;
            }
            shared[sAt + i * squarePitch + j] = score;
            s.Scores[square + e] = score;
        }
        Group.Barrier();

        // pattern row i = softmax over keys 0..i, one thread per row (max, then exp and sum, then the division).
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            int row = sAt + i * squarePitch;
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

        for (int e = Group.IdxX; e < squareValues; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            s.Pattern[square + e] = shared[sAt + i * squarePitch + j];
        }
        // z_i = Σ_{j ≤ i} pattern[i, j]·v_j
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int i = e / dHead, d = e - i * dHead;
            T acc = T.Zero;
            for (int j = 0; j <= i; j++) acc += shared[sAt + i * squarePitch + j] * shared[vAt + j * pitch + d];
            s.Z[rows + (long)i * rowStride + d] = acc;
        }
    }

    /// <summary>
    /// One group per pair: the backward of <see cref="ForwardPair{T}"/> (AttentionReference.cs derives each line).
    /// Writes dv, then dk, then dq, a barrier between them, as <see cref="AttentionKernels"/> do: when two gradients
    /// share a buffer the host adds to it (every accumulate flag on) and the adds do not race.
    /// </summary>
    internal static void BackwardPair<T>(AttentionArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pair = Grid.IdxX, t = s.Time, dHead = s.DHead, pitch = Pitch(dHead), squarePitch = Pitch(t);
        int rowStride = s.Heads * dHead, rowValues = t * dHead, squareValues = t * t;
        int bAt = t * pitch, pAt = 2 * t * pitch, wAt = pAt + t * squarePitch;
        long rows = s.Row(pair, 0), square = s.Square(pair, 0);
        var shared = SharedMemory.GetDynamic<T>();

        // Stage dz (block a), v (block b) and the pattern.
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int i = e / dHead, d = e - i * dHead;
            long at = rows + (long)i * rowStride + d;
            shared[i * pitch + d] = s.DZ[at];
            shared[bAt + i * pitch + d] = s.V[at];
        }
        for (int e = Group.IdxX; e < squareValues; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            shared[pAt + i * squarePitch + j] = s.Pattern[square + e];
        }
        Group.Barrier();

        // dv_j = Σ_{i ≥ j} pattern[i, j]·dz_i
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int j = e / dHead, d = e - j * dHead;
            T acc = T.Zero;
            for (int i = j; i < t; i++) acc += shared[pAt + i * squarePitch + j] * shared[i * pitch + d];
            long at = rows + (long)j * rowStride + d;
            s.DV[at] = s.AccumulateDv != 0 ? s.DV[at] + acc : acc;
        }
        // dPattern[i, j] = dz_i·v_j on the triangle, 0 above it (kept in the scratch square, read back below).
        for (int e = Group.IdxX; e < squareValues; e += Group.DimX)
        {
            int i = e / t, j = e - i * t;
            T dot = T.Zero;
            if (j <= i)
                for (int d = 0; d < dHead; d++) dot += shared[i * pitch + d] * shared[bAt + j * pitch + d];
            s.DPattern[square + e] = dot;
        }
        Group.Barrier();   // also makes the group's writes of dPattern visible to the whole group

        // The pattern-weighted mean of dPattern's row i, one thread per row, keys in order.
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            T weighted = T.Zero;
            for (int j = 0; j <= i; j++) weighted += shared[pAt + i * squarePitch + j] * s.DPattern[square + i * t + j];
            shared[wAt + i] = weighted;
        }
        Group.Barrier();

        // dScores = pattern ⊙ (dPattern − mean), into the pattern's place; q and k replace dz and v.
        for (int e = Group.IdxX; e < squareValues; e += Group.DimX)
        {
            int i = e / t, j = e - i * t, at = pAt + i * squarePitch + j;
            T dScore = j <= i ? shared[at] * (s.DPattern[square + e] - shared[wAt + i]) : T.Zero;
            shared[at] = dScore;
            s.DScores[square + e] = dScore;
        }
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int i = e / dHead, d = e - i * dHead;
            long at = rows + (long)i * rowStride + d;
            shared[i * pitch + d] = s.Q[at];
            shared[bAt + i * pitch + d] = s.K[at];
        }
        Group.Barrier();

        // dk_j = scale·Σ_{i ≥ j} dScores[i, j]·q_i
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int j = e / dHead, d = e - j * dHead;
            T acc = T.Zero;
            for (int i = j; i < t; i++) acc += shared[pAt + i * squarePitch + j] * shared[i * pitch + d];
            long at = rows + (long)j * rowStride + d;
            s.DK[at] = s.AccumulateDk != 0 ? s.DK[at] + s.Scale * acc : s.Scale * acc;
        }
        Group.Barrier();   // dk before dq, as the row kernels order them

        // dq_i = scale·Σ_{j ≤ i} dScores[i, j]·k_j
        for (int e = Group.IdxX; e < rowValues; e += Group.DimX)
        {
            int i = e / dHead, d = e - i * dHead;
            T acc = T.Zero;
            for (int j = 0; j <= i; j++) acc += shared[pAt + i * squarePitch + j] * shared[bAt + j * pitch + d];
            long at = rows + (long)i * rowStride + d;
            s.DQ[at] = s.AccumulateDq != 0 ? s.DQ[at] + s.Scale * acc : s.Scale * acc;
        }
    }
}
