using System.Numerics;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// Fused causal multi-head attention on an ILGPU device, with the contract and buffer layouts of
/// <see cref="Attention"/> (q, k, v, z and their gradients (batch, t, heads, dHead); scores, pattern
/// and the scratch squares (batch, heads, t, t); gradients accumulate). The derivation is the teaching
/// text of AttentionReference.cs; the device version splits it by what each output depends on, so that every
/// output element is written by exactly one thread (deterministic, no atomics):
/// <list type="bullet">
/// <item>when a (batch, head) pair's rows and square fit a group's shared memory (every model of the experiments in
/// float32): one group per pair does the whole forward, and one the whole backward, from shared memory
/// (<see cref="AttentionPairKernels"/>) — 1 launch each way;</item>
/// <item>otherwise, forward: one group per query row (pair, i) computes its scores, softmax and z_i;</item>
/// <item>backward 1: one group per query row computes dPattern_i = dz_i·vᵀ and dScores_i;</item>
/// <item>backward 2: one thread per (pair, key j, d) sums dv_j and dk_j over the queries i ≥ j;</item>
/// <item>backward 3: one thread per (pair, query i, d) sums dq_i over the keys j ≤ i.</item>
/// </list>
/// </summary>
public static class IlgpuAttention
{
    const string ForwardName = "IlgpuAttention.Forward", BackwardName = "IlgpuAttention.Backward";

    /// <summary>scores = scale·q·kᵀ (−∞ above the diagonal), pattern = softmax(scores), z = pattern·v. See <see cref="Attention.Forward{T}"/>.</summary>
    public static void Forward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> scores, ArrayView1D<T, Stride1D.Dense> pattern,
        ArrayView1D<T, Stride1D.Dense> z, int batch, int t, int heads, int dHead, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = AttentionShape.Checked(ForwardName, batch, t, heads, dHead);
        shape.CheckRows(ForwardName, nameof(q), Views.Length(q));
        shape.CheckRows(ForwardName, nameof(k), Views.Length(k));
        shape.CheckRows(ForwardName, nameof(v), Views.Length(v));
        shape.CheckSquares(ForwardName, nameof(scores), Views.Length(scores));
        shape.CheckSquares(ForwardName, nameof(pattern), Views.Length(pattern));
        shape.CheckRows(ForwardName, nameof(z), Views.Length(z));
        Views.CheckType<T>(backend, ForwardName);
        long rows = (long)batch * heads * t;
        if (rows == 0) return;
        var args = new AttentionArgs<T>
        {
            Q = q, K = k, V = v, Scores = scores, Pattern = pattern, Z = z, Time = t, Heads = heads, DHead = dHead, Scale = scale,
        };
        long staging = AttentionPairKernels.ForwardElements(t, dHead);
        if (PairFits<T>(backend, staging))
            backend.Kernels<PairKernels<T>>().Forward(backend.Stream, PairConfig<T>(backend, batch * heads, staging), args);
        else
            backend.Kernels<Kernels<T>>().ForwardRow(backend.Stream, new KernelConfig(checked((int)rows), backend.RowGroupSize), args);
    }

    /// <summary>
    /// Adds the gradients of <see cref="Forward{T}"/> to dq, dk, dv — or writes them, for each whose accumulate
    /// flag is false (old contents, even NaN, never read); the scratch squares are overwritten. See
    /// <see cref="Attention.Backward{T}"/>. The kernels write dv and dk (one kernel, dv first), then dq: when
    /// two of the three are one buffer, only the first written may overwrite.
    /// </summary>
    public static void Backward<T>(IlgpuBackend backend, ArrayView1D<T, Stride1D.Dense> dz, ArrayView1D<T, Stride1D.Dense> q,
        ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> pattern,
        ArrayView1D<T, Stride1D.Dense> dPatternScratch, ArrayView1D<T, Stride1D.Dense> dScoresScratch,
        ArrayView1D<T, Stride1D.Dense> dq, ArrayView1D<T, Stride1D.Dense> dk, ArrayView1D<T, Stride1D.Dense> dv,
        int batch, int t, int heads, int dHead, T scale,
        bool accumulateDq = true, bool accumulateDk = true, bool accumulateDv = true) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = AttentionShape.Checked(BackwardName, batch, t, heads, dHead);
        shape.CheckRows(BackwardName, nameof(dz), Views.Length(dz));
        shape.CheckRows(BackwardName, nameof(q), Views.Length(q));
        shape.CheckRows(BackwardName, nameof(k), Views.Length(k));
        shape.CheckRows(BackwardName, nameof(v), Views.Length(v));
        shape.CheckSquares(BackwardName, nameof(pattern), Views.Length(pattern));
        shape.CheckSquares(BackwardName, nameof(dPatternScratch), Views.Length(dPatternScratch));
        shape.CheckSquares(BackwardName, nameof(dScoresScratch), Views.Length(dScoresScratch));
        shape.CheckRows(BackwardName, nameof(dq), Views.Length(dq));
        shape.CheckRows(BackwardName, nameof(dk), Views.Length(dk));
        shape.CheckRows(BackwardName, nameof(dv), Views.Length(dv));
        Views.CheckType<T>(backend, BackwardName);
        long rows = (long)batch * heads * t, elements = rows * dHead;
        if (rows == 0) return;
        var args = new AttentionArgs<T>
        {
            DZ = dz, Q = q, K = k, V = v, Pattern = pattern, DPattern = dPatternScratch, DScores = dScoresScratch,
            DQ = dq, DK = dk, DV = dv, Time = t, Heads = heads, DHead = dHead, Scale = scale,
            AccumulateDq = accumulateDq ? 1 : 0, AccumulateDk = accumulateDk ? 1 : 0, AccumulateDv = accumulateDv ? 1 : 0,
        };
        long staging = AttentionPairKernels.BackwardElements(t, dHead);
        if (PairFits<T>(backend, staging))
        {
            backend.Kernels<PairKernels<T>>().Backward(backend.Stream, PairConfig<T>(backend, batch * heads, staging), args);
            return;
        }
        var kernels = backend.Kernels<Kernels<T>>();
        kernels.BackwardRow(backend.Stream, new KernelConfig(checked((int)rows), backend.RowGroupSize), args);
        if (elements == 0) return;
        kernels.KeyValueGradients(backend.Stream, checked((int)elements), args);
        kernels.QueryGradients(backend.Stream, checked((int)elements), args);
    }

    /// <summary>
    /// Whether one pair's staging (<paramref name="elements"/> of T) fits the dynamic shared memory a group may have
    /// (<see cref="IlgpuBackend.DynamicSharedMemoryBytes"/>: none on OpenCL); off when
    /// <see cref="IlgpuBackend.AttentionInSharedMemory"/> is.
    /// </summary>
    static unsafe bool PairFits<T>(IlgpuBackend backend, long elements) where T : unmanaged =>
        backend.AttentionInSharedMemory && elements * sizeof(T) <= backend.DynamicSharedMemoryBytes;

    /// <summary>One group per pair, <see cref="IlgpuBackend.PairGroupSize"/> threads, the staging as dynamic shared memory.</summary>
    static KernelConfig PairConfig<T>(IlgpuBackend backend, int pairs, long elements) where T : unmanaged =>
        new(new Index3D(pairs, 1, 1), new Index3D(backend.PairGroupSize, 1, 1), SharedMemoryConfig.RequestDynamic<T>(checked((int)elements)));

    sealed class Kernels<T> : IKernelSet<Kernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, AttentionArgs<T>> ForwardRow, BackwardRow;
        public required Action<AcceleratorStream, Index1D, AttentionArgs<T>> KeyValueGradients, QueryGradients;

        public static Kernels<T> Load(IlgpuBackend backend) => new()
        {
            ForwardRow = KernelMethods.Grouped<T, AttentionArgs<T>>(backend, typeof(AttentionKernels), nameof(AttentionKernels.ForwardRow)),
            BackwardRow = KernelMethods.Grouped<T, AttentionArgs<T>>(backend, typeof(AttentionKernels), nameof(AttentionKernels.BackwardRow)),
            KeyValueGradients = KernelMethods.Indexed<T, AttentionArgs<T>>(backend, typeof(AttentionKernels), nameof(AttentionKernels.KeyValueGradients)),
            QueryGradients = KernelMethods.Indexed<T, AttentionArgs<T>>(backend, typeof(AttentionKernels), nameof(AttentionKernels.QueryGradients)),
        };
    }

    /// <summary>
    /// The one-group-per-pair kernels, a set of their own so that they are compiled only where they run: never on a
    /// device without usable dynamic shared memory (OpenCL, whose drivers may not even build how ILGPU passes it).
    /// </summary>
    sealed class PairKernels<T> : IKernelSet<PairKernels<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required Action<AcceleratorStream, KernelConfig, AttentionArgs<T>> Forward, Backward;

        public static PairKernels<T> Load(IlgpuBackend backend) => new()
        {
            Forward = KernelMethods.Grouped<T, AttentionArgs<T>>(backend, typeof(AttentionPairKernels), nameof(AttentionPairKernels.ForwardPair)),
            Backward = KernelMethods.Grouped<T, AttentionArgs<T>>(backend, typeof(AttentionPairKernels), nameof(AttentionPairKernels.BackwardPair)),
        };
    }
}

/// <summary>Arguments of the attention kernels (forward leaves the gradient views empty).</summary>
internal struct AttentionArgs<T> where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> Q, K, V, Scores, Pattern, Z;
    public ArrayView1D<T, Stride1D.Dense> DZ, DPattern, DScores, DQ, DK, DV;
    public int Time, Heads, DHead;   // Time = t (positions per sequence)
    public int AccumulateDq, AccumulateDk, AccumulateDv;   // backward: 1 adds to the gradient, 0 overwrites it
    public T Scale;

    /// <summary>Where (pair = b·heads + h, position) starts in a (batch, t, heads, dHead) buffer.</summary>
    public readonly long Row(int pair, int position) =>
        ((long)(pair / Heads * Time + position) * Heads + pair % Heads) * DHead;

    /// <summary>Where row i of pair's (t, t) square starts in a (batch, heads, t, t) buffer.</summary>
    public readonly long Square(int pair, int i) => ((long)pair * Time + i) * Time;
}

/// <summary>Device code of <see cref="IlgpuAttention"/>.</summary>
internal static class AttentionKernels
{
    /// <summary>One group per query row (Grid.IdxX = pair·t + i): scores, softmax over keys 0..i, then z_i.</summary>
    internal static void ForwardRow<T, TSum, TMax>(AttentionArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int pair = Grid.IdxX / s.Time, i = Grid.IdxX % s.Time;
        long query = s.Row(pair, i), square = s.Square(pair, i);
        T max = T.NegativeInfinity;
        for (int j = Group.IdxX; j < s.Time; j += Group.DimX)
        {
            T score = T.NegativeInfinity;
            if (j <= i)
            {
                long key = s.Row(pair, j);
                T dot = T.Zero;
                for (int d = 0; d < s.DHead; d++) dot += s.Q[query + d] * s.K[key + d];
                score = s.Scale * dot;
                max = T.Max(max, score);
            }
            s.Scores[square + j] = score;
        }
        max = DeterministicGroup.AllReduce<T, TMax>(max);
        T sum = T.Zero;
        for (int j = Group.IdxX; j <= i; j += Group.DimX) sum += T.Exp(s.Scores[square + j] - max);
        sum = DeterministicGroup.AllReduce<T, TSum>(sum);
        for (int j = Group.IdxX; j < s.Time; j += Group.DimX)
            s.Pattern[square + j] = j <= i ? T.Exp(s.Scores[square + j] - max) / sum : T.Zero;
        Group.Barrier();   // z_i reads the whole pattern row, written by every thread of the group
        for (int d = Group.IdxX; d < s.DHead; d += Group.DimX)
        {
            T acc = T.Zero;
            for (int j = 0; j <= i; j++) acc += s.Pattern[square + j] * s.V[s.Row(pair, j) + d];
            s.Z[query + d] = acc;
        }
    }

    /// <summary>One group per query row: dPattern_i = dz_i·vᵀ and dScores_i = pattern_i ⊙ (dPattern_i − pattern_i·dPattern_i).</summary>
    internal static void BackwardRow<T, TSum, TMax>(AttentionArgs<T> s)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TSum : struct, IScanReduceOperation<T> where TMax : struct, IScanReduceOperation<T>
    {
        int pair = Grid.IdxX / s.Time, i = Grid.IdxX % s.Time;
        long query = s.Row(pair, i), square = s.Square(pair, i);
        T weighted = T.Zero;
        for (int j = Group.IdxX; j < s.Time; j += Group.DimX)
        {
            T dPattern = T.Zero;
            if (j <= i)
            {
                long value = s.Row(pair, j);
                for (int d = 0; d < s.DHead; d++) dPattern += s.DZ[query + d] * s.V[value + d];
                weighted += s.Pattern[square + j] * dPattern;
            }
            s.DPattern[square + j] = dPattern;
        }
        weighted = DeterministicGroup.AllReduce<T, TSum>(weighted);
        // Each thread rereads only the dPattern entries it wrote.
        for (int j = Group.IdxX; j < s.Time; j += Group.DimX)
            s.DScores[square + j] = j <= i ? s.Pattern[square + j] * (s.DPattern[square + j] - weighted) : T.Zero;
    }

    /// <summary>One thread per (pair, key j, d): dv_j[d] += Σ_{i≥j} pattern[i, j]·dz_i[d], dk_j[d] += scale·Σ_{i≥j} dScores[i, j]·q_i[d].</summary>
    internal static void KeyValueGradients<T>(Index1D index, AttentionArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = index % s.DHead, row = index / s.DHead, pair = row / s.Time, j = row % s.Time;
        T dv = T.Zero, dk = T.Zero;
        for (int i = j; i < s.Time; i++)
        {
            long at = s.Square(pair, i) + j, query = s.Row(pair, i) + d;
            dv += s.Pattern[at] * s.DZ[query];
            dk += s.DScores[at] * s.Q[query];
        }
        long key = s.Row(pair, j) + d;
        s.DV[key] = s.AccumulateDv != 0 ? s.DV[key] + dv : dv;
        s.DK[key] = s.AccumulateDk != 0 ? s.DK[key] + s.Scale * dk : s.Scale * dk;
    }

    /// <summary>One thread per (pair, query i, d): dq_i[d] += scale·Σ_{j≤i} dScores[i, j]·k_j[d].</summary>
    internal static void QueryGradients<T>(Index1D index, AttentionArgs<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = index % s.DHead, row = index / s.DHead, pair = row / s.Time, i = row % s.Time;
        long square = s.Square(pair, i);
        T dq = T.Zero;
        for (int j = 0; j <= i; j++) dq += s.DScores[square + j] * s.K[s.Row(pair, j) + d];
        long at = s.Row(pair, i) + d;
        s.DQ[at] = s.AccumulateDq != 0 ? s.DQ[at] + s.Scale * dq : s.Scale * dq;
    }
}
