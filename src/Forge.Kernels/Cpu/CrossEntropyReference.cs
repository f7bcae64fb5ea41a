using System.Numerics;

namespace Forge.Kernels;

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
            T max = T.NegativeInfinity;
            for (int j = 0; j < vocab; j++) max = T.Max(max, x[j]);
            T sum = T.Zero;
            for (int j = 0; j < vocab; j++) sum += T.Exp(x[j] - max);
            T w = mask.IsEmpty ? T.One : mask[i];
            // −log softmax(x)[t] = log Σ exp(x_j − max) − (x_t − max)
            T loss = w == T.Zero ? T.Zero : T.Log(sum) - (x[targets[i]] - max);
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
            for (int j = 0; j < vocab; j++)
                dLogits[i * vocab + j] += scale * (probs[i * vocab + j] - (j == targets[i] ? T.One : T.Zero));
        }
    }
}
