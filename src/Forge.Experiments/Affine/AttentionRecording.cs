using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// What the attention analysis reads from forward passes over test sequences, kept compact: per layer and
/// head the pre-softmax scores of the pairs j &lt; i (<see cref="QueryKeyPairs"/> layout), pattern sums
/// (all sequences, a &gt; 0, a &lt; 0), the patterns of example sequences, and each head's direct
/// contribution to the prediction; per layer the centred-residual cosine of every pair.
/// </summary>
public sealed class AttentionRecording
{
    /// <summary>Sequences per forward pass.</summary>
    const int Chunk = 256;

    AttentionRecording(int layers, int heads, int sequences, int positions, int examples)
    {
        int pairs = QueryKeyPairs.Count(positions);
        (Layers, Heads, Sequences, Positions) = (layers, heads, sequences, positions);
        Scores = Grid(layers, heads, () => new double[sequences * pairs]);
        DirectOutput = Grid(layers, heads, () => new double[sequences * positions]);
        PatternSum = Grid(layers, heads, () => new double[positions, positions]);
        PatternSumPositiveA = Grid(layers, heads, () => new double[positions, positions]);
        PatternSumNegativeA = Grid(layers, heads, () => new double[positions, positions]);
        ExamplePatterns = Enumerable.Range(0, examples).Select(_ => Grid(layers, heads, () => new double[positions, positions])).ToArray();
        Cosine = Enumerable.Range(0, layers).Select(_ => new double[sequences * pairs]).ToArray();
    }

    public int Layers { get; }
    public int Heads { get; }
    public int Sequences { get; }
    public int Positions { get; }
    /// <summary>[layer][head] → scores in pair layout [sequences, pairs] (scaled q·k/√d_head, before softmax).</summary>
    public double[][][] Scores { get; }
    /// <summary>[layer] → cosine of the centred residual streams feeding the layer (hook_resid_pre), pair layout.</summary>
    public double[][] Cosine { get; }
    /// <summary>[layer][head] → [sequences, positions]: hook_result through the final LayerNorm's scale and W_U (no biases): the head's direct contribution to the prediction.</summary>
    public double[][][] DirectOutput { get; }
    /// <summary>[layer][head] → Σ over sequences of the pattern [query, key].</summary>
    public double[][][,] PatternSum { get; }
    public double[][][,] PatternSumPositiveA { get; }
    public double[][][,] PatternSumNegativeA { get; }
    /// <summary>[example][layer][head] → pattern [query, key] of that example sequence.</summary>
    public double[][][][,] ExamplePatterns { get; }
    public int CountPositiveA { get; private set; }
    public int CountNegativeA { get; private set; }

    /// <summary>
    /// Runs the first <paramref name="sequences"/> test sequences through <paramref name="model"/> (on the
    /// CPU, no gradients) and records them; <paramref name="examples"/> are test-set indices below that count.
    /// </summary>
    public static AttentionRecording Record(Transformer<float> model, AffineTestSet test, int sequences, IReadOnlyList<int> examples)
    {
        var config = model.Config;
        int positions = test.Positions, layers = config.NLayers;
        var recording = new AttentionRecording(layers, config.NHeads, sequences, positions, examples.Count);
        var wanted = new HashSet<string> { HookNames.ResidPost(layers - 1) };
        for (int l = 0; l < layers; l++)
            wanted.UnionWith([HookNames.AttnScores(l), HookNames.Pattern(l), HookNames.ResidPre(l), HookNames.Result(l)]);
        var readout = ReadoutDirection(model);
        for (int start = 0; start < sequences; start += Chunk)
        {
            int count = Math.Min(Chunk, sequences - start);
            var inputs = Tensor.FromArray(test.Inputs.AsSpan(start * positions, count * positions).ToArray(), [count, positions, 1]);
            var hooks = new HookSet<float> { Cache = new ActivationCache<float>(wanted.Contains) };
            using (GradMode.NoGrad()) model.Forward(inputs, hooks);
            var cache = hooks.Cache;
            var finalScale = FinalNormScale(cache[HookNames.ResidPost(layers - 1)].Contiguous().AsSpan(), config.DModel, model.LnFinal.W is not null);
            for (int l = 0; l < layers; l++)
            {
                QueryKeyPairs.CentredCosine(cache[HookNames.ResidPre(l)].Contiguous().AsSpan(), count, positions, config.DModel, recording.Cosine[l], start);
                recording.AddPatterns(l, cache[HookNames.AttnScores(l)].Contiguous().AsSpan(), cache[HookNames.Pattern(l)].Contiguous().AsSpan(), test, start, count, examples);
                recording.AddDirectOutput(l, cache[HookNames.Result(l)].Contiguous().AsSpan(), readout, finalScale, start, count);
            }
        }
        for (int s = 0; s < sequences; s++)
        {
            if (test.A[s] > 0) recording.CountPositiveA++;
            else if (test.A[s] < 0) recording.CountNegativeA++;
        }
        return recording;
    }

    /// <summary>scores, pattern: [count, head, query, key] of one layer (the fused kernel writes −∞ above the diagonal; only j ≤ i is read).</summary>
    void AddPatterns(int layer, ReadOnlySpan<float> scores, ReadOnlySpan<float> pattern, AffineTestSet test, int start, int count, IReadOnlyList<int> examples)
    {
        int t = Positions, pairs = QueryKeyPairs.Count(t);
        for (int b = 0; b < count; b++)
        {
            int sequence = start + b;
            double a = test.A[sequence];
            int example = IndexOf(examples, sequence);
            for (int h = 0; h < Heads; h++)
            {
                int square = (b * Heads + h) * t * t;
                var sum = PatternSum[layer][h];
                var bySign = a > 0 ? PatternSumPositiveA[layer][h] : a < 0 ? PatternSumNegativeA[layer][h] : null;
                for (int i = 0; i < t; i++)
                    for (int j = 0; j <= i; j++)
                    {
                        double p = pattern[square + i * t + j];
                        sum[i, j] += p;
                        if (bySign is not null) bySign[i, j] += p;
                        if (example >= 0) ExamplePatterns[example][layer][h][i, j] = p;
                        if (j < i) Scores[layer][h][sequence * pairs + QueryKeyPairs.Index(i, j)] = scores[square + i * t + j];
                    }
            }
        }
    }

    /// <summary>result: [count, position, head, d_model] of one layer.</summary>
    void AddDirectOutput(int layer, ReadOnlySpan<float> result, double[] readout, double[] finalScale, int start, int count)
    {
        int dModel = readout.Length;
        for (int b = 0; b < count; b++)
            for (int p = 0; p < Positions; p++)
                for (int h = 0; h < Heads; h++)
                {
                    var vector = result.Slice(((b * Positions + p) * Heads + h) * dModel, dModel);
                    double dot = 0;
                    for (int d = 0; d < dModel; d++) dot += vector[d] * readout[d];
                    DirectOutput[layer][h][(start + b) * Positions + p] = dot * finalScale[b * Positions + p];
                }
    }

    /// <summary>
    /// The direction the final LayerNorm and W_U read from the residual stream: ln_final.w ⊙ W_U[:, 0],
    /// centred over d_model (LayerNorm's mean subtraction removes the all-ones direction, so
    /// (r − mean(r))·v = r·(v − mean(v))). Without LayerNorm: W_U[:, 0].
    /// </summary>
    static double[] ReadoutDirection(Transformer<float> model)
    {
        var wU = model.WU.Data.ToArray();   // [d_model, 1]
        var scale = model.LnFinal.W?.Data.ToArray();
        var v = wU.Select((w, d) => (double)w * (scale is null ? 1 : scale[d])).ToArray();
        if (scale is null) return v;
        double mean = v.Average();
        return v.Select(x => x - mean).ToArray();
    }

    /// <summary>1/√(var + ε) of the final residual per token — the final LayerNorm's division (1 without LayerNorm).</summary>
    static double[] FinalNormScale(ReadOnlySpan<float> residual, int dModel, bool hasLayerNorm)
    {
        var scale = new double[residual.Length / dModel];
        for (int n = 0; n < scale.Length; n++)
        {
            if (!hasLayerNorm) { scale[n] = 1; continue; }
            var row = residual.Slice(n * dModel, dModel);
            double mean = 0, squares = 0;
            foreach (float v in row) mean += v;
            mean /= dModel;
            foreach (float v in row) squares += (v - mean) * (v - mean);
            scale[n] = 1 / Math.Sqrt(squares / dModel + LayerNormEps);
        }
        return scale;
    }

    /// <summary>The ε of <c>Var.LayerNorm</c>'s default.</summary>
    const double LayerNormEps = 1e-5;

    static int IndexOf(IReadOnlyList<int> list, int value)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }

    static T[][] Grid<T>(int layers, int heads, Func<T> make) =>
        Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, heads).Select(_ => make()).ToArray()).ToArray();
}
