using Forge.Experiments.Framework;

namespace Forge.Experiments.Affine;

/// <summary>
/// The affine-recurrence task: a sequence x_0 … x_{L−1} with x_{n+1} = a·x_n + b, where a, b and x_0 are
/// drawn uniformly from their ranges for each sequence. The model reads x_0 … x_{L−2} (one real number
/// per position) and at position n predicts x_{n+1}; the loss is the mean squared error over all L − 1
/// predictions. Since a and b change from sequence to sequence they must be inferred from the prefix.
/// </summary>
public sealed record AffineTask(Interval A, Interval B, Interval X0, int SequenceLength)
{
    /// <summary>Predictions per sequence: L − 1.</summary>
    public int Positions => SequenceLength - 1;

    /// <summary>Draws one sequence: its coefficients, and the L terms into <paramref name="terms"/>.</summary>
    public (double A, double B) Sample(Rng rng, Span<double> terms)
    {
        double a = A.Sample(rng), b = B.Sample(rng);
        terms[0] = X0.Sample(rng);
        for (int n = 1; n < terms.Length; n++) terms[n] = a * terms[n - 1] + b;
        return (a, b);
    }

    /// <summary>
    /// Writes one sequence into a batch row: inputs [positions] = x_0 … x_{L−2}, targets [positions] =
    /// x_1 … x_{L−1}; returns (a, b).
    /// </summary>
    public (double A, double B) Fill(Rng rng, Span<float> inputs, Span<float> targets, Span<double> scratch)
    {
        var ab = Sample(rng, scratch);
        for (int n = 0; n < Positions; n++)
        {
            inputs[n] = (float)scratch[n];
            targets[n] = (float)scratch[n + 1];
        }
        return ab;
    }

    /// <summary>The copy-last baseline at position n: x_n itself.</summary>
    public static double CopyLast(ReadOnlySpan<double> terms, int n) => terms[n];

    /// <summary>
    /// The best prediction of x_{n+1} from x_0 … x_n in mean squared error. From n = 2 on, three terms fix
    /// a = (x_n − x_{n−1})/(x_{n−1} − x_{n−2}) and b = x_n − a·x_{n−1}, and the prediction is exact (when the
    /// differences vanish the sequence is constant from there on, and x_n is exact). At n = 0 and 1 it is the
    /// posterior mean under the uniform priors (<see cref="PosteriorMean"/>).
    /// </summary>
    public double Oracle(ReadOnlySpan<double> terms, int n)
    {
        if (n >= 2)
        {
            double d1 = terms[n] - terms[n - 1], d0 = terms[n - 1] - terms[n - 2];
            if (Math.Abs(d0) < 1e-12) return terms[n];
            double a = d1 / d0;
            return terms[n] + a * d1;   // a·x_n + b = x_n + a·(x_n − x_{n−1})
        }
        return PosteriorMean(terms, n);
    }

    /// <summary>
    /// E[x_{n+1} | x_0 … x_n] for n ∈ {0, 1} under independent uniform priors on a, b, x_0. At n = 0:
    /// E[a]·x_0 + E[b]. At n = 1: given x_1 = a·x_0 + b, the pair lies on the line b = x_1 − a·x_0; with
    /// uniform priors the posterior of a is uniform on the part of A's range that keeps b inside B's range,
    /// and x_2 = x_1 + a·(x_1 − x_0), so the prediction is x_1 + E[a | x_0, x_1]·(x_1 − x_0).
    /// </summary>
    public double PosteriorMean(ReadOnlySpan<double> terms, int n)
    {
        double meanA = (A.Min + A.Max) / 2, meanB = (B.Min + B.Max) / 2;
        if (n == 0) return meanA * terms[0] + meanB;
        double x0 = terms[0], x1 = terms[1];
        // b = x1 − a·x0 ∈ [B.Min, B.Max]  ⇔  a·x0 ∈ [x1 − B.Max, x1 − B.Min]
        double low = A.Min, high = A.Max;
        if (Math.Abs(x0) > 1e-12)
        {
            double p = (x1 - B.Max) / x0, q = (x1 - B.Min) / x0;
            low = Math.Max(low, Math.Min(p, q));
            high = Math.Min(high, Math.Max(p, q));
        }
        double posteriorA = low <= high ? (low + high) / 2 : meanA;
        return x1 + posteriorA * (x1 - x0);
    }
}
