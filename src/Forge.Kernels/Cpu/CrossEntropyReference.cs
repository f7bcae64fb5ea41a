using System.Numerics;

namespace Forge.Kernels;

// Cross-entropy as plain loops: the version to read first (CrossEntropy.cs is the fast one).
// docs/attention-backward.md works an example by hand; `Forge.Experiments explain cross-entropy` prints it.
//
// Shapes: logits, probs, dLogits [position, vocab]; targets, mask, rowLoss [position].
// FORWARD, per row:  probs = softmax(logits),  rowLoss = −log probs[target];  loss = Σ mask·rowLoss / Σ mask.
// Rows with mask 0 are skipped: probs 0, rowLoss 0 (their gradient is 0 whatever the probabilities).
// BACKWARD: −log softmax(x)[target] = log Σ_j exp(x[j]) − x[target], so
//   ∂rowLoss/∂x[j] = exp(x[j]) / Σ_j' exp(x[j']) − [j = target] = probs[j] − [j = target]
// (the softmax Jacobian, multiplied by −1/probs[target] at the target, collapses to this). The mean
// then scales every row by mask/Σ mask.

/// <summary>Plain scalar versions of <see cref="CrossEntropy"/> (same signatures and conventions); the tests compare against these.</summary>
public static class CrossEntropyReference
{
    public static T Forward<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> targets, ReadOnlySpan<T> mask,
        Span<T> probs, Span<T> rowLoss, int n, int vocab)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T total = T.Zero, weight = T.Zero;
        for (int i = 0; i < n; i++)
        {
            var x = logits.Slice(i * vocab, vocab);
            T w = mask.IsEmpty ? T.One : mask[i];
            if (w == T.Zero)
            {
                // An ignored row: no softmax (its probabilities are never used), zeros instead.
                probs.Slice(i * vocab, vocab).Clear();
                rowLoss[i] = T.Zero;
                continue;
            }
            T max = T.NegativeInfinity;
            for (int j = 0; j < vocab; j++) max = T.Max(max, x[j]);
            T sum = T.Zero;
            for (int j = 0; j < vocab; j++) sum += T.Exp(x[j] - max);
            // −log softmax(x)[t] = log Σ exp(x_j − max) − (x_t − max)
            T loss = T.Log(sum) - (x[targets[i]] - max);
            for (int j = 0; j < vocab; j++) probs[i * vocab + j] = T.Exp(x[j] - max) / sum;
            rowLoss[i] = loss;
            total += w * loss;
            weight += w;
        }
        return weight == T.Zero ? T.Zero : total / weight;
    }

    public static void Backward<T>(ReadOnlySpan<T> probs, ReadOnlySpan<int> targets, ReadOnlySpan<T> mask, T dLoss,
        Span<T> dLogits, int n, int vocab)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T weight = T.Zero;
        for (int i = 0; i < n; i++) weight += mask.IsEmpty ? T.One : mask[i];
        if (weight == T.Zero) return;
        for (int i = 0; i < n; i++)
        {
            T w = mask.IsEmpty ? T.One : mask[i];
            if (w == T.Zero) continue;
            T scale = dLoss / weight * w;
            // forward: rowLoss = log Σ_j exp(x[j] − max) − (x[target] − max);  loss = Σ w·rowLoss / Σ w
            //   ∂loss/∂x[j] = w/Σ w · (probs[j] − [j = target])
            for (int j = 0; j < vocab; j++)
                dLogits[i * vocab + j] += scale * (probs[i * vocab + j] - (j == targets[i] ? T.One : T.Zero));
        }
    }
}
