using Forge.Models.Interpretability;

namespace Forge.Experiments.Sorting;

/// <summary>The final organisation of the heads (sorting paper, claim 2).</summary>
public enum SortingMode { SingleHead, VocabularySplitting, CopySuppression, Overlapping }

/// <summary>What one head's OV circuit does to each number token.</summary>
/// <param name="CopyScore">For each number token t: (OV[t,t] − mean_u OV[t,u]) / max over heads and tokens of |·| — positive: attending to t raises t's logit.</param>
/// <param name="Copies">Tokens with CopyScore &gt; threshold.</param>
/// <param name="Suppresses">Tokens with CopyScore &lt; −threshold.</param>
/// <param name="Regions">Contiguous runs of copied tokens, as [first, last].</param>
public sealed record HeadProfile(int Head, double[] CopyScore, int[] Copies, int[] Suppresses, (int First, int Last)[] Regions);

/// <summary>The mode label of a model, with the evidence it was derived from.</summary>
public sealed record ModeClassification(SortingMode Mode, HeadProfile[] Heads, double MaxCopyOverlap, (int Copier, int Suppressor)? SuppressionPair, double[,] QkSimilarity, string Explanation);

/// <summary>
/// The mode classifier [ours]. From the LayerNorm-folded full OV circuit of each head (number tokens
/// only, SEP excluded) it computes per-token copy scores c_h[t] = OV_h[t,t] − mean_u OV_h[t,u]
/// (how much attending to t favours t over the average logit), scaled by the largest |c| of the model.
/// A head copies t when c_h[t] &gt; τ and suppresses t when c_h[t] &lt; −τ (τ = 0.2). Then:
/// <list type="number">
/// <item>one head → <b>single head</b>;</item>
/// <item>a head suppressing ≥ 30 % of the numbers, ≥ 50 % of which another head copies →
/// <b>copy-suppression</b> (the pair, and the cosine similarity of their full QK circuits, are reported);</item>
/// <item>else, if ≥ 2 heads copy and every pair's copy sets overlap by ≤ 20 % of the smaller set →
/// <b>vocabulary-splitting</b>;</item>
/// <item>else <b>overlapping</b>.</item>
/// </list>
/// </summary>
public static class ModeClassifier
{
    public const double Threshold = 0.2, SuppressorShare = 0.3, SuppressedCopied = 0.5, MaxSplitOverlap = 0.2;

    /// <summary>The mode of a 1-layer model from its LayerNorm-folded circuits.</summary>
    public static ModeClassification Classify(Circuits circuits, int numbers)
    {
        var heads = Enumerable.Range(0, circuits.Config.NHeads).ToArray();
        return Classify(heads.Select(h => circuits.FullOV(0, h)).ToArray(), heads.Select(h => circuits.FullQK(0, h)).ToArray(), numbers);
    }

    /// <summary>
    /// The mode from each head's full OV circuit (attended token → output logit) and full QK circuit
    /// (query token × key token); only the first <paramref name="numbers"/> rows and columns (the number
    /// tokens) are read, so the matrices may include SEP.
    /// </summary>
    public static ModeClassification Classify(IReadOnlyList<double[,]> fullOv, IReadOnlyList<double[,]> fullQk, int numbers)
    {
        int heads = fullOv.Count;
        if (heads < 1 || fullQk.Count != heads) throw new ArgumentException($"ModeClassifier: {heads} OV and {fullQk.Count} QK circuits; need one of each per head (≥ 1)");
        if (numbers < 1) throw new ArgumentOutOfRangeException(nameof(numbers), numbers, "ModeClassifier: need at least one number token");
        foreach (var matrix in fullOv.Concat(fullQk))
            if (matrix.GetLength(0) < numbers || matrix.GetLength(1) < numbers)
                throw new ArgumentException($"ModeClassifier: a {matrix.GetLength(0)}×{matrix.GetLength(1)} circuit does not cover the {numbers} number tokens");
        var raw = fullOv.Select(ov => RawCopyScores(ov, numbers)).ToArray();
        double scale = raw.SelectMany(s => s).Select(Math.Abs).DefaultIfEmpty(1).Max();
        var profiles = raw.Select((scores, h) => Profile(h, scores.Select(s => s / scale).ToArray())).ToArray();
        var similarity = QkSimilarity(fullQk, numbers);
        double maxOverlap = MaxOverlap(profiles);

        if (heads == 1) return new(SortingMode.SingleHead, profiles, 0, null, similarity, "one head: nothing to split");
        foreach (var suppressor in profiles.Where(p => p.Suppresses.Length >= SuppressorShare * numbers))
            foreach (var copier in profiles.Where(p => p.Head != suppressor.Head))
            {
                double copied = copier.Copies.Intersect(suppressor.Suppresses).Count() / (double)suppressor.Suppresses.Length;
                if (copied >= SuppressedCopied)
                    return new(SortingMode.CopySuppression, profiles, maxOverlap, (copier.Head, suppressor.Head), similarity,
                        $"head {suppressor.Head} suppresses {suppressor.Suppresses.Length}/{numbers} numbers, {copied:P0} of which head {copier.Head} copies; QK cosine similarity {similarity[copier.Head, suppressor.Head]:F2}");
            }
        int copying = profiles.Count(p => p.Copies.Length > 0);
        if (copying >= 2 && maxOverlap <= MaxSplitOverlap)
            return new(SortingMode.VocabularySplitting, profiles, maxOverlap, null, similarity,
                $"{copying} heads copy disjoint ranges (largest overlap {maxOverlap:P0} of the smaller set)");
        return new(SortingMode.Overlapping, profiles, maxOverlap, null, similarity,
            copying < 2 ? $"only {copying} head copies; no suppressor found" : $"copy ranges overlap by up to {maxOverlap:P0}");
    }

    static double[] RawCopyScores(double[,] fullOv, int numbers)
    {
        var scores = new double[numbers];
        for (int t = 0; t < numbers; t++)
        {
            double mean = 0;
            for (int u = 0; u < numbers; u++) mean += fullOv[t, u];
            scores[t] = fullOv[t, t] - mean / numbers;
        }
        return scores;
    }

    static HeadProfile Profile(int head, double[] score)
    {
        var copies = Enumerable.Range(0, score.Length).Where(t => score[t] > Threshold).ToArray();
        var suppresses = Enumerable.Range(0, score.Length).Where(t => score[t] < -Threshold).ToArray();
        return new HeadProfile(head, score, copies, suppresses, Regions(copies));
    }

    /// <summary>Maximal runs of consecutive tokens.</summary>
    public static (int, int)[] Regions(int[] tokens)
    {
        var regions = new List<(int, int)>();
        for (int i = 0; i < tokens.Length; i++)
        {
            int start = tokens[i];
            while (i + 1 < tokens.Length && tokens[i + 1] == tokens[i] + 1) i++;
            regions.Add((start, tokens[i]));
        }
        return [.. regions];
    }

    static double MaxOverlap(HeadProfile[] profiles)
    {
        double max = 0;
        for (int a = 0; a < profiles.Length; a++)
            for (int b = a + 1; b < profiles.Length; b++)
            {
                int smaller = Math.Min(profiles[a].Copies.Length, profiles[b].Copies.Length);
                if (smaller == 0) continue;
                max = Math.Max(max, profiles[a].Copies.Intersect(profiles[b].Copies).Count() / (double)smaller);
            }
        return max;
    }

    /// <summary>Cosine similarity of the heads' full QK circuits over number tokens.</summary>
    static double[,] QkSimilarity(IReadOnlyList<double[,]> fullQk, int numbers)
    {
        int heads = fullQk.Count;
        var flat = fullQk.Select(qk =>
        {
            var v = new double[numbers * numbers];
            for (int i = 0; i < numbers; i++) for (int j = 0; j < numbers; j++) v[i * numbers + j] = qk[i, j];
            return v;
        }).ToArray();
        var result = new double[heads, heads];
        for (int a = 0; a < heads; a++)
            for (int b = 0; b < heads; b++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < flat[a].Length; i++) { dot += flat[a][i] * flat[b][i]; na += flat[a][i] * flat[a][i]; nb += flat[b][i] * flat[b][i]; }
                result[a, b] = dot / Math.Sqrt(na * nb + 1e-300);
            }
        return result;
    }
}
