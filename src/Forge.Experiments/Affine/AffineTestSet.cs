namespace Forge.Experiments.Affine;

/// <summary>
/// The fixed held-out sequences of a run, drawn once from their own random stream: the model's inputs
/// and targets, every term in double precision, and each sequence's a and b (the analyses split by
/// them).
/// </summary>
public sealed class AffineTestSet
{
    public AffineTestSet(AffineTask task, int count, ulong seed)
    {
        Task = task;
        Count = count;
        int positions = task.Positions, length = task.SequenceLength;
        Inputs = new float[count * positions];
        Targets = new float[count * positions];
        Terms = new double[count * length];
        A = new double[count];
        B = new double[count];
        var rng = new Rng(seed);
        for (int i = 0; i < count; i++)
            (A[i], B[i]) = task.Fill(rng, Inputs.AsSpan(i * positions, positions), Targets.AsSpan(i * positions, positions), Terms.AsSpan(i * length, length));
    }

    public AffineTask Task { get; }
    public int Count { get; }
    public int Positions => Task.Positions;
    /// <summary>x_0 … x_{L−2} per sequence [count, positions] (the model's inputs, d_in = 1).</summary>
    public float[] Inputs { get; }
    /// <summary>x_1 … x_{L−1} per sequence [count, positions].</summary>
    public float[] Targets { get; }
    /// <summary>All L terms per sequence in double precision [count, L].</summary>
    public double[] Terms { get; }
    public double[] A { get; }
    public double[] B { get; }

    public ReadOnlySpan<double> TermsOf(int sequence) => Terms.AsSpan(sequence * Task.SequenceLength, Task.SequenceLength);

    /// <summary>Per-position mean squared error of the model's <paramref name="predictions"/> [count, positions] over the sequences <paramref name="include"/> selects (all by default).</summary>
    public double[] MsePerPosition(float[] predictions, Func<int, bool>? include = null) =>
        MsePerPosition((i, n) => predictions[i * Positions + n], include);

    /// <summary>Per-position mean squared error of a baseline that predicts from the terms alone (in double precision).</summary>
    public double[] BaselineMsePerPosition(Func<ReadOnlySpan<double>, int, double> predict, Func<int, bool>? include = null) =>
        MsePerPosition((i, n) => predict(TermsOf(i), n), include);

    /// <summary>Per-position mean squared error of <paramref name="prediction"/>(sequence, position) against x_{n+1}.</summary>
    public double[] MsePerPosition(Func<int, int, double> prediction, Func<int, bool>? include = null)
    {
        var sum = new double[Positions];
        int used = 0;
        for (int i = 0; i < Count; i++)
        {
            if (include is not null && !include(i)) continue;
            used++;
            var terms = TermsOf(i);
            for (int n = 0; n < Positions; n++)
            {
                double error = prediction(i, n) - terms[n + 1];
                sum[n] += error * error;
            }
        }
        return sum.Select(s => used == 0 ? double.NaN : s / used).ToArray();
    }
}
