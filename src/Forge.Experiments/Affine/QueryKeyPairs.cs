namespace Forge.Experiments.Affine;

/// <summary>
/// The (query i, key j) pairs the similarity regressions use — every key strictly before its query,
/// 0 ≤ j &lt; i &lt; positions — flattened per sequence query by query: pair index i(i−1)/2 + j, so
/// the keys of query i are the contiguous run [i(i−1)/2, i(i−1)/2 + i). Arrays "in pair layout" are
/// [sequences, <see cref="Count"/>] row-major. The self pair j = i is left out (see
/// <see cref="SimilarityRegression"/>): there −|x_i − x_j| = 0 and the cosine = 1 for every sequence.
/// </summary>
public static class QueryKeyPairs
{
    /// <summary>Pairs per sequence: positions·(positions − 1)/2.</summary>
    public static int Count(int positions) => positions * (positions - 1) / 2;

    /// <summary>Index of pair (query, key) within a sequence, key &lt; query.</summary>
    public static int Index(int query, int key) => query * (query - 1) / 2 + key;

    /// <summary>x_i·x_j per pair from the inputs [sequences, positions]: the product the token–token QK term multiplies.</summary>
    public static double[] Product(ReadOnlySpan<float> inputs, int sequences, int positions) =>
        FromInputs(inputs, sequences, positions, (xi, xj) => xi * xj);

    /// <summary>−|x_i − x_j| per pair: larger when the key's value is closer to the query's.</summary>
    public static double[] NegativeDistance(ReadOnlySpan<float> inputs, int sequences, int positions) =>
        FromInputs(inputs, sequences, positions, (xi, xj) => -Math.Abs(xi - xj));

    static double[] FromInputs(ReadOnlySpan<float> inputs, int sequences, int positions, Func<double, double, double> measure)
    {
        int pairs = Count(positions);
        var result = new double[sequences * pairs];
        for (int s = 0; s < sequences; s++)
        {
            var x = inputs.Slice(s * positions, positions);
            for (int i = 1; i < positions; i++)
                for (int j = 0; j < i; j++) result[s * pairs + Index(i, j)] = measure(x[i], x[j]);
        }
        return result;
    }

    /// <summary>
    /// Cosine similarity of the residual vectors at query and key, each centred over d_model first (what
    /// LayerNorm sees: its mean subtraction removes the all-ones direction, and the cosine ignores its
    /// division by the norm) — written into <paramref name="result"/> (pair layout) for the
    /// <paramref name="sequences"/> sequences of <paramref name="residual"/> [sequences, positions, d_model],
    /// starting at sequence <paramref name="firstSequence"/>.
    /// </summary>
    public static void CentredCosine(ReadOnlySpan<float> residual, int sequences, int positions, int dModel, double[] result, int firstSequence)
    {
        int pairs = Count(positions);
        var centred = new double[positions * dModel];   // one sequence, [positions, d_model]
        var norms = new double[positions];
        for (int s = 0; s < sequences; s++)
        {
            for (int p = 0; p < positions; p++)
            {
                var row = residual.Slice((s * positions + p) * dModel, dModel);
                double mean = 0;
                foreach (float v in row) mean += v;
                mean /= dModel;
                double squares = 0;
                for (int d = 0; d < dModel; d++)
                {
                    double c = row[d] - mean;
                    centred[p * dModel + d] = c;
                    squares += c * c;
                }
                norms[p] = Math.Sqrt(squares);
            }
            for (int i = 1; i < positions; i++)
                for (int j = 0; j < i; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < dModel; d++) dot += centred[i * dModel + d] * centred[j * dModel + d];
                    double denominator = norms[i] * norms[j];
                    result[(firstSequence + s) * pairs + Index(i, j)] = denominator > 0 ? dot / denominator : 0;
                }
        }
    }
}
