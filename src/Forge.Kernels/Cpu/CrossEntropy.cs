using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Numerics.Tensors;
using Forge.Kernels.Threading;

namespace Forge.Kernels;

/// <summary>
/// Fused log-softmax + negative log-likelihood over (n, vocab) logits with integer targets and an
/// optional per-row weight (mask). Reference versions: <see cref="CrossEntropyReference"/>.
/// <para>
/// Row loss = log Σ_j exp(x_j − m) − (x_target − m) with m = max_j x_j: computed from the log-sum-exp
/// rather than as −log(prob), so it stays finite even when the target's probability underflows to 0
/// (logits of ±1000). Rows whose weight is 0 are ignored (PyTorch's ignore_index): their target is
/// not read (so padding may use −1), no softmax is computed for them (their probabilities are written as 0),
/// their row loss is 0 and they get no gradient. (The sorting task ignores 11 of its 21 positions.)
/// </para>
/// </summary>
public static unsafe class CrossEntropy
{
    /// <summary>
    /// Mean cross-entropy over counted rows: Σ_i mask_i·loss_i / Σ_i mask_i (0 when Σ mask = 0).
    /// logits and probs are (n, vocab), targets, mask and rowLoss are (n); an empty mask counts every
    /// row with weight 1. Writes the softmax to probs (kept for <see cref="Backward{T}"/>; may be the
    /// logits span itself; zeros for rows of weight 0) and each row's unweighted loss to rowLoss.
    /// </summary>
    /// <exception cref="ArgumentException">A counted row's target is outside [0, vocab); the message names the row and value.</exception>
    public static T Forward<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> targets, ReadOnlySpan<T> mask,
        Span<T> probs, Span<T> rowLoss, int n, int vocab)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "CrossEntropy.Forward";
        CheckArguments(kernel, logits.Length, nameof(logits), targets, mask, n, vocab);
        Check.AtLeast(kernel, nameof(probs), probs.Length, (long)n * vocab, "n·vocab");
        Check.AtLeast(kernel, nameof(rowLoss), rowLoss.Length, n, "n");
        if (n == 0) return T.Zero;
        if (vocab == 0)
        {
            // Only possible when every row is masked out (a counted row's target could not be valid).
            rowLoss[..n].Clear();
            return T.Zero;
        }
        fixed (T* pLogits = logits, pMask = mask, pProbs = probs, pRowLoss = rowLoss)
        fixed (int* pTargets = targets)
        {
            var state = new RowState<T>
            {
                Logits = pLogits, Targets = pTargets, Mask = pMask, Probs = pProbs, RowLoss = pRowLoss, Vocab = vocab,
            };
            ForkJoin.For(n, &state, &ForwardRows<T>, ParallelWork.MinBlock(n, vocab));
        }
        // Sequential, so the mean never depends on the thread count.
        T total = T.Zero;
        for (int i = 0; i < n; i++) total += mask.IsEmpty ? rowLoss[i] : mask[i] * rowLoss[i];
        T weight = TotalWeight(mask, n);
        return weight == T.Zero ? T.Zero : total / weight;
    }

    /// <summary>
    /// dLogits[i, j] += dLoss · mask_i / Σ mask · (probs[i, j] − [j = targets[i]]), the gradient of
    /// <see cref="Forward{T}"/>'s mean loss scaled by dLoss. probs is the softmax saved by Forward.
    /// With <paramref name="accumulate"/> false, dLogits = that gradient (masked rows get zeros; the old
    /// contents, even NaN, are never read).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> probs, ReadOnlySpan<int> targets, ReadOnlySpan<T> mask, T dLoss,
        Span<T> dLogits, int n, int vocab, bool accumulate = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "CrossEntropy.Backward";
        CheckArguments(kernel, probs.Length, nameof(probs), targets, mask, n, vocab);
        Check.AtLeast(kernel, nameof(dLogits), dLogits.Length, (long)n * vocab, "n·vocab");
        T weight = TotalWeight(mask, n);
        if (n == 0 || vocab == 0) return;
        if (weight == T.Zero)
        {
            // No counted row: the gradient is zero everywhere.
            if (!accumulate) dLogits[..(n * vocab)].Clear();
            return;
        }
        fixed (T* pProbs = probs, pMask = mask, pDLogits = dLogits)
        fixed (int* pTargets = targets)
        {
            var state = new RowState<T>
            {
                Probs = pProbs, Targets = pTargets, Mask = pMask, DLogits = pDLogits, Vocab = vocab,
                GradientScale = dLoss / weight, Accumulate = accumulate,
            };
            ForkJoin.For(n, &state, &BackwardRows<T>, ParallelWork.MinBlock(n, vocab));
        }
    }

    static void CheckArguments<T>(string kernel, int inputLength, string inputName, ReadOnlySpan<int> targets,
        ReadOnlySpan<T> mask, int n, int vocab) where T : IFloatingPointIeee754<T>
    {
        Check.NonNegative(kernel, nameof(n), n);
        Check.NonNegative(kernel, nameof(vocab), vocab);
        Check.AtLeast(kernel, inputName, inputLength, (long)n * vocab, "n·vocab");
        Check.AtLeast(kernel, nameof(targets), targets.Length, n, "n");
        Check.EmptyOrAtLeast(kernel, nameof(mask), mask.Length, n, "n, or empty for no mask");
        // Validate before touching any output, so a bad batch leaves buffers unchanged.
        for (int i = 0; i < n; i++)
            if ((uint)targets[i] >= (uint)vocab && (mask.IsEmpty || mask[i] != T.Zero))
                ThrowTarget(kernel, i, targets[i], vocab);
    }

    [DoesNotReturn]
    static void ThrowTarget(string kernel, int row, int target, int vocab) =>
        throw new ArgumentException($"{kernel}: targets[{row}] = {target} is outside [0, vocab = {vocab}).", "targets");

    static T TotalWeight<T>(ReadOnlySpan<T> mask, int n) where T : IFloatingPointIeee754<T>
    {
        if (mask.IsEmpty) return T.CreateChecked(n);
        T weight = T.Zero;
        for (int i = 0; i < n; i++) weight += mask[i];
        return weight;
    }

    struct RowState<T> where T : unmanaged
    {
        public T* Logits, Mask, Probs, RowLoss, DLogits;
        public int* Targets;
        public int Vocab;
        public T GradientScale;
        public bool Accumulate;
    }

    static void ForwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (RowState<T>*)statePointer;
        int vocab = s->Vocab;
        for (int i = begin; i < end; i++)
        {
            var logits = new ReadOnlySpan<T>(s->Logits + (long)i * vocab, vocab);
            var probs = new Span<T>(s->Probs + (long)i * vocab, vocab);
            if (s->Mask != null && s->Mask[i] == T.Zero)
            {
                // An ignored row: its probabilities are never used (Backward gives it zeros), so none are computed.
                probs.Clear();
                s->RowLoss[i] = T.Zero;
                continue;
            }
            // Read the target logit before probs (possibly the same memory) overwrites it.
            T targetLogit = logits[s->Targets[i]];
            T sum = Softmax.SoftmaxRow(logits, probs, out T max);
            s->RowLoss[i] = T.Log(sum) - (targetLogit - max);
        }
    }

    static void BackwardRows<T>(void* statePointer, int begin, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (RowState<T>*)statePointer;
        int vocab = s->Vocab;
        for (int i = begin; i < end; i++)
        {
            T scale = s->Mask == null ? s->GradientScale : s->GradientScale * s->Mask[i];
            var dLogits = new Span<T>(s->DLogits + (long)i * vocab, vocab);
            if (scale == T.Zero)
            {
                if (!s->Accumulate) dLogits.Clear();   // a masked row: zero gradient
                continue;
            }
            var probs = new ReadOnlySpan<T>(s->Probs + (long)i * vocab, vocab);
            int target = s->Targets[i];
            if (s->Accumulate)
            {
                T dTarget = dLogits[target];
                TensorPrimitives.MultiplyAdd(probs, scale, dLogits, dLogits);
                dLogits[target] = dTarget + scale * (probs[target] - T.One);
            }
            else
            {
                TensorPrimitives.Multiply(probs, scale, dLogits);
                dLogits[target] = scale * (probs[target] - T.One);
            }
        }
    }
}
