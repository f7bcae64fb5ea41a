using Forge.Experiments.Plotting;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// The attention of every head on held-out sequences: mean and example patterns, the negative-similarity
/// test (pre-softmax score regressed on three query–key similarities with position effects removed,
/// <see cref="SimilarityRegression"/>, judged by <see cref="NegativeSimilarityRule"/>), the weight-space
/// sign of the token–token QK term, and copy-like summaries (attention to the current and previous term,
/// correlation of the head's direct contribution with x_i). Writes its figures into the run folder.
/// </summary>
public static class AffineAttention
{
    /// <summary>Test sequences the analysis uses by default (the whole default test set).</summary>
    public const int DefaultSequences = 4096;

    /// <summary>An example sequence is the first with |a| at least this (else the first of that sign): a clear case of its sign.</summary>
    const double ExampleMinAbsA = 0.5;

    /// <param name="folder">Where the figures go; null: no figures (a control measurement, e.g. on the untrained model).</param>
    public static AffineAttentionResult Measure(AffineRun run, RunFolder? folder, TextWriter? output = null, int sequences = DefaultSequences)
    {
        var model = run.Model.ToDevice(Forge.CpuDevice.Instance);
        var test = run.TestSet;
        int count = Math.Min(sequences, test.Count), positions = test.Positions;
        int layers = model.Config.NLayers, heads = model.Config.NHeads;
        var examples = new[] { Example(test, count, +1), Example(test, count, -1) };

        output?.WriteLine($"analysis: attention on {count} test sequences");
        var recording = AttentionRecording.Record(model, test, count, examples.Where(e => e >= 0).ToArray());
        var product = QueryKeyPairs.Product(test.Inputs, count, positions);
        var distance = QueryKeyPairs.NegativeDistance(test.Inputs, count, positions);
        var qk = TokenQkScalars(model);
        var meanPatterns = Mean(recording.PatternSum, count);
        // x_{i+1} − x_i = a·(x_i − x_{i−1}): what a refinement of the copy must add (x_{i+1} itself correlates with x_i too strongly to tell copy from refinement).
        var correction = test.Targets.Zip(test.Inputs, (next, current) => next - current).ToArray();

        var result = new List<HeadAttention>();
        for (int l = 0; l < layers; l++)
            for (int h = 0; h < heads; h++)
            {
                var scores = recording.Scores[l][h];
                SlopeEstimate[] similarity =
                [
                    SimilarityRegression.Fit(scores, product, count, positions),
                    SimilarityRegression.Fit(scores, distance, count, positions),
                    SimilarityRegression.Fit(scores, recording.Cosine[l], count, positions),
                ];
                var (current, previous) = CurrentAndPrevious(meanPatterns[l][h]);
                var direct = recording.DirectOutput[l][h];
                result.Add(new HeadAttention(l, h, similarity, NegativeSimilarityRule.Judge(similarity), qk[l][h], current, previous,
                    PositionCentredCorrelation(direct, test.Inputs, count, positions), PositionCentredCorrelation(direct, correction, count, positions),
                    PositionCentredStd(direct, count, positions)));
            }

        var exampleA = examples.Select(e => e >= 0 ? test.A[e] : double.NaN).ToArray();
        var figures = folder is null ? new Dictionary<string, string>() : DrawFigures(folder, recording, meanPatterns, result, test, examples, count);
        return new AffineAttentionResult(count, positions, result, meanPatterns, exampleA, figures);
    }

    /// <summary>
    /// Per layer and head, the token–token part of the pre-softmax score under the linear read-in, as one
    /// scalar: c = W_E·W_Q^h·(W_K^h)ᵀ·W_Eᵀ / √d_head from <see cref="Circuits.FullQK"/> with LayerNorm
    /// folded. Folding centres W_E (LayerNorm's mean subtraction is linear, so the token part of the
    /// centred residual is x·centred(W_E)) and multiplies ln1's scale into W_Q and W_K; what it leaves
    /// out is LayerNorm's division of each token by its own norm σ_i, which is positive. So in layer 0
    /// the score contains exactly x_i·x_j·c/(σ_i·σ_j) (besides the position–position, token–position and
    /// bias terms), and c &lt; 0 means "attend more where x_i·x_j is smaller". In later layers the
    /// residual carries far more than x·W_E, so c there is only the direct-path diagnostic.
    /// </summary>
    public static double[][] TokenQkScalars(Transformer<float> model)
    {
        var circuits = Circuits.Of(model);
        var config = model.Config;
        if (config.DIn != 1) throw new ArgumentException($"AffineAttention.TokenQkScalars: needs a scalar read-in (d_in 1), got d_in {config.DIn}");
        double scale = 1 / Math.Sqrt(config.DHead);
        return Enumerable.Range(0, config.NLayers)
            .Select(l => Enumerable.Range(0, config.NHeads).Select(h => circuits.FullQK(l, h)[0, 0] * scale).ToArray()).ToArray();
    }

    /// <summary>Index of the first sequence of the given sign of a with |a| ≥ <see cref="ExampleMinAbsA"/> (else the first of that sign; −1 if none).</summary>
    static int Example(AffineTestSet test, int count, int sign)
    {
        int fallback = -1;
        for (int s = 0; s < count; s++)
        {
            if (Math.Sign(test.A[s]) != sign) continue;
            if (Math.Abs(test.A[s]) >= ExampleMinAbsA) return s;
            if (fallback < 0) fallback = s;
        }
        return fallback;
    }

    /// <summary>Mean weight on the current key (i → i) and on the previous one (i → i − 1), over queries i ≥ 1 (query 0 can only attend to itself).</summary>
    static (double Current, double Previous) CurrentAndPrevious(double[,] meanPattern)
    {
        int t = meanPattern.GetLength(0);
        if (t < 2) return (double.NaN, double.NaN);
        double current = 0, previous = 0;
        for (int i = 1; i < t; i++) { current += meanPattern[i, i]; previous += meanPattern[i, i - 1]; }
        return (current / (t - 1), previous / (t - 1));
    }

    /// <summary>Pearson correlation of a [sequences, positions] and b (same layout), each centred per position first (position effects do not count).</summary>
    public static double PositionCentredCorrelation(ReadOnlySpan<double> a, ReadOnlySpan<float> b, int sequences, int positions)
    {
        var bd = new double[sequences * positions];
        for (int k = 0; k < bd.Length; k++) bd[k] = b[k];
        var ac = PositionCentred(a, sequences, positions);
        var bc = PositionCentred(bd, sequences, positions);
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < ac.Length; k++) { ab += ac[k] * bc[k]; aa += ac[k] * ac[k]; bb += bc[k] * bc[k]; }
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : double.NaN;
    }

    static double PositionCentredStd(ReadOnlySpan<double> a, int sequences, int positions)
    {
        var centred = PositionCentred(a, sequences, positions);
        return Math.Sqrt(centred.Sum(v => v * v) / Math.Max(1, centred.Length - positions));
    }

    static double[] PositionCentred(ReadOnlySpan<double> values, int sequences, int positions)
    {
        var mean = new double[positions];
        for (int s = 0; s < sequences; s++) for (int p = 0; p < positions; p++) mean[p] += values[s * positions + p] / sequences;
        var centred = new double[values.Length];
        for (int s = 0; s < sequences; s++) for (int p = 0; p < positions; p++) centred[s * positions + p] = values[s * positions + p] - mean[p];
        return centred;
    }

    static double[][][,] Mean(double[][][,] sums, int count) => sums.Select(layer => layer.Select(sum =>
    {
        var mean = (double[,])sum.Clone();
        var flat = Matrix.Flat(mean);
        for (int k = 0; k < flat.Length; k++) flat[k] = count > 0 ? flat[k] / count : double.NaN;
        return mean;
    }).ToArray()).ToArray();

    static Dictionary<string, string> DrawFigures(RunFolder folder, AttentionRecording recording, double[][][,] meanPatterns,
        IReadOnlyList<HeadAttention> heads, AffineTestSet test, int[] examples, int count)
    {
        var figures = new Dictionary<string, string>();
        string Figure(string key, string file) => figures[key] = folder.FigurePath(file);
        int positions = test.Positions;
        var labels = Enumerable.Range(0, positions).Select(p => p.ToString()).ToArray();
        List<HeatMapPanel> Panels(Func<int, int, double[,]> values, IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null) =>
            heads.Select(h => new HeatMapPanel(h.Name, values(h.Layer, h.Head), rowLabels ?? labels, columnLabels ?? labels)).ToList();
        int columns = recording.Heads;

        Figures.HeatMapGrid(Figure("attention_mean", "attention_mean.png"), Panels((l, h) => meanPatterns[l][h]),
            $"Mean attention pattern per head over {count} test sequences (rows: layers)", "key position", "query position",
            HeatMapScale.Probability, columns: columns);
        var positive = Mean(recording.PatternSumPositiveA, recording.CountPositiveA);
        var negative = Mean(recording.PatternSumNegativeA, recording.CountNegativeA);
        Figures.HeatMapGrid(Figure("attention_sign_difference", "attention_mean_a_negative_minus_positive.png"),
            Panels((l, h) => Difference(negative[l][h], positive[l][h])),
            $"Mean pattern on a < 0 ({recording.CountNegativeA} sequences) minus a > 0 ({recording.CountPositiveA})", "key position", "query position",
            columns: columns);
        for (int e = 0, found = 0; e < examples.Length; e++)
        {
            if (examples[e] < 0) continue;
            int sequence = examples[e], index = found++;
            string sign = e == 0 ? "positive" : "negative";
            var values = Enumerable.Range(0, positions).Select(p => $"{test.Inputs[sequence * positions + p]:0.00}").ToArray();
            Figures.HeatMapGrid(Figure($"attention_example_a_{sign}", $"attention_example_a_{sign}.png"),
                Panels((l, h) => recording.ExamplePatterns[index][l][h], values, values),
                $"Attention on test sequence {sequence}: a = {test.A[sequence]:0.00}, b = {test.B[sequence]:0.00} (labels: x at each position)",
                "key (x_j)", "query (x_i)", HeatMapScale.Probability, columns: columns);
        }

        var names = heads.Select(h => h.Name).ToArray();
        Figures.Bars(Figure("similarity", "attention_similarity_correlation.png"), names,
            Enum.GetValues<SimilarityMeasure>().Select(m => new BarSeries(Label(m), heads.Select(h => h[m].Correlation).ToArray())).ToList(),
            "Within correlation of pre-softmax score and similarity (position effects removed)", "sign(slope)·√R²",
            width: Math.Max(FigureStyle.Width, 110 * names.Length));
        Figures.Bars(Figure("copy", "attention_copy_summaries.png"), names,
            [new BarSeries("attention i → i", heads.Select(h => h.AttentionToCurrent).ToArray()),
             new BarSeries("attention i → i−1", heads.Select(h => h.AttentionToPrevious).ToArray()),
             new BarSeries("corr(direct output, x_i)", heads.Select(h => h.OutputCorrelationWithCurrent).ToArray()),
             new BarSeries("corr(direct output, x_{i+1} − x_i)", heads.Select(h => h.OutputCorrelationWithCorrection).ToArray())],
            "Copy-like summaries per head", "weight / correlation", width: Math.Max(FigureStyle.Width, 110 * names.Length));
        return figures;
    }

    /// <summary>How the report and the figures name a measure.</summary>
    public static string Label(SimilarityMeasure measure) => measure switch
    {
        SimilarityMeasure.Product => "x_i·x_j",
        SimilarityMeasure.NegativeDistance => "−|x_i − x_j|",
        _ => "cos(resid_i, resid_j)",
    };

    static double[,] Difference(double[,] a, double[,] b)
    {
        var d = new double[a.GetLength(0), a.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) d[i, j] = a[i, j] - b[i, j];
        return d;
    }
}
