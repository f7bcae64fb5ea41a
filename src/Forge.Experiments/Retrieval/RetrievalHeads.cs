using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// Per head and hop, how much the head moves the token that hop needs. Two views of "the position that
/// must perform hop k" [ours], since a stack of heads can resolve a chain either at the query or along the
/// chain itself:
/// <list type="bullet">
/// <item><see cref="FromQuery"/>[l, h, k]: mean attention from the query position (whose prediction is the
/// answer) to the rhs position hop k needs;</item>
/// <item><see cref="AlongChain"/>[l, h, k]: for k ≥ 2, mean attention from the rhs position of hop k − 1 —
/// the token that names the next statement to read — to the rhs position of hop k, over the examples where
/// that statement comes earlier (a causal model cannot look forward; statements are shuffled).</item>
/// </list>
/// Both are <em>selective</em>: the attention on the needed rhs minus the mean attention on the other rhs
/// positions holding a token of the same kind (another value for the value hop, another name for a name
/// hop). A head that spreads its attention over every value in the context — which already gives the
/// chance-level answer — scores 0, not 1/K; a head that picks the needed token scores near 1.
/// A head's <see cref="Score"/> for hop k is the larger of the two; it is the "hop-k head" when that is at
/// least <see cref="HeadThreshold"/>.
/// </summary>
public sealed record RetrievalHeads(double[,,] FromQuery, double[,,] AlongChain, int Examples)
{
    /// <summary>The score above which a head counts as the head of a hop [ours].</summary>
    public const double HeadThreshold = 0.3;

    public int Layers => FromQuery.GetLength(0);
    public int Heads => FromQuery.GetLength(1);
    public int Hops => FromQuery.GetLength(2);

    public double Score(int layer, int head, int hop) => Math.Max(FromQuery[layer, head, hop], AlongChain[layer, head, hop]);

    /// <summary>Every (layer, head, hop) at or above the threshold, strongest first.</summary>
    public IReadOnlyList<(int Layer, int Head, int Hop, double Score)> HopHeads() =>
        (from l in Enumerable.Range(0, Layers)
         from h in Enumerable.Range(0, Heads)
         from k in Enumerable.Range(0, Hops)
         let s = Score(l, h, k)
         where s >= HeadThreshold
         orderby s descending
         select (l, h, k, s)).ToList();

    /// <summary>The scores of <paramref name="model"/> on the first <paramref name="count"/> examples of <paramref name="data"/> (all asked at the same number of look-ups).</summary>
    public static RetrievalHeads Measure(Transformer<float> model, RetrievalTask task, FixedTokenDataset<float> data, int count)
    {
        var cpu = model.ToDevice(CpuDevice.Instance);
        int layers = cpu.Config.NLayers, heads = cpu.Config.NHeads, t = task.Context;
        count = Math.Min(count, data.Count);
        var tally = new Tally(task, layers, heads, ChainPositions.Of(task, data.Sequence(0)).Length);
        var patterns = new float[layers * heads * t * t];   // one example's [layer, head, query, key]
        const int BatchSize = 256;
        var batch = new TokenBatch<float>(Math.Min(BatchSize, count), t);
        for (int start = 0; start < count; start += batch.BatchSize)
        {
            int rows = Math.Min(data.FillInOrder(start, batch), count - start);
            var hooks = new HookSet<float> { Cache = new ActivationCache<float>(name => name.EndsWith(".hook_pattern", StringComparison.Ordinal)) };
            using (GradMode.NoGrad()) cpu.Forward(batch.Tokens, hooks);
            int perExample = heads * t * t;
            for (int b = 0; b < rows; b++)
            {
                for (int l = 0; l < layers; l++)   // the cache is [batch, head, query, key] per layer
                    hooks.Cache[HookNames.Pattern(l)].AsSpan().Slice(b * perExample, perExample).CopyTo(patterns.AsSpan(l * perExample));
                tally.Add(data.Sequence(start + b), patterns);
            }
        }
        return tally.Result();
    }

    /// <summary>
    /// The scores accumulated example by example from attention patterns of any source (a model's, or written
    /// by hand in a test): <see cref="Add"/> one example's tokens with its patterns, then <see cref="Result"/>.
    /// </summary>
    public sealed class Tally(RetrievalTask task, int layers, int heads, int hops)
    {
        readonly double[,,] fromQuery = new double[layers, heads, hops];
        readonly double[,,] alongChain = new double[layers, heads, hops];
        readonly int[] reachable = new int[hops];
        int examples;

        /// <summary>One example: its tokens and its patterns [layer, head, query, key] (rows sum to 1, causal).</summary>
        public void Add(ReadOnlySpan<int> sequence, ReadOnlySpan<float> patterns)
        {
            int t = task.Context, query = task.AnswerPosition;
            if (patterns.Length != layers * heads * t * t)
                throw new ArgumentException($"retrieval heads: patterns hold {patterns.Length} numbers, not layers × heads × context² = {layers * heads * t * t}");
            var chain = ChainPositions.Of(task, sequence);
            if (chain.Length != hops) throw new ArgumentException($"retrieval heads: the example takes {chain.Length} look-ups, the tally counts {hops}");
            // For each hop, the other rhs positions holding a token of the same kind (value or name): the baseline.
            var others = new int[hops][];
            for (int k = 0; k < hops; k++)
            {
                bool value = sequence[chain[k]] >= task.FirstValue;
                var list = new List<int>();
                for (int p = 1; p < task.StatementsEnd; p += task.StatementLength)
                    if (p != chain[k] && sequence[p - 1] != RetrievalTask.Pad && (sequence[p] >= task.FirstValue) == value) list.Add(p);
                others[k] = [.. list];
            }
            for (int k = 1; k < hops; k++) if (chain[k] < chain[k - 1]) reachable[k]++;
            for (int l = 0; l < layers; l++)
                for (int h = 0; h < heads; h++)
                {
                    int rowBase = (l * heads + h) * t;
                    for (int k = 0; k < hops; k++)
                    {
                        fromQuery[l, h, k] += Selective(patterns, (rowBase + query) * t, chain[k], others[k]);
                        if (k > 0 && chain[k] < chain[k - 1]) alongChain[l, h, k] += Selective(patterns, (rowBase + chain[k - 1]) * t, chain[k], others[k]);
                    }
                }
            examples++;
        }

        /// <summary>The means over the examples added (along the chain: over those where hop k's statement comes before hop k − 1's).</summary>
        public RetrievalHeads Result()
        {
            var q = (double[,,])fromQuery.Clone();
            var a = (double[,,])alongChain.Clone();
            for (int l = 0; l < layers; l++)
                for (int h = 0; h < heads; h++)
                    for (int k = 0; k < hops; k++)
                    {
                        q[l, h, k] = examples == 0 ? 0 : q[l, h, k] / examples;
                        a[l, h, k] = reachable[k] == 0 ? 0 : a[l, h, k] / reachable[k];
                    }
            return new RetrievalHeads(q, a, examples);
        }
    }

    /// <summary>Attention (row starting at <paramref name="row"/>) on <paramref name="needed"/> minus its mean over <paramref name="others"/> (positions after the row's own are 0: causal).</summary>
    static double Selective(ReadOnlySpan<float> pattern, int row, int needed, int[] others)
    {
        double baseline = 0;
        foreach (int p in others) baseline += pattern[row + p];
        return pattern[row + needed] - (others.Length == 0 ? 0 : baseline / others.Length);
    }
}
