using Forge.Experiments.Retrieval;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>
/// The selective head score with known answers: attention patterns written by hand (a head that picks the
/// needed token scores 1, one that spreads evenly scores 0, one that splits between the needed token and one
/// rival scores ½ − ½/|rivals|), and a real model whose queries and keys are zero (uniform attention) scoring 0.
/// </summary>
public class RetrievalHeadsTests
{
    static readonly RetrievalTask Task = new RetrievalTask(Depth: 2, Chains: 3, Names: 12, Values: 6, Curriculum.None).Validate();

    /// <summary>Uniform causal attention in every row of every head: [heads, query, key].</summary>
    static float[] UniformCausal(int heads, int t)
    {
        var patterns = new float[heads * t * t];
        for (int h = 0; h < heads; h++)
            for (int q = 0; q < t; q++)
                for (int k = 0; k <= q; k++) patterns[(h * t + q) * t + k] = 1f / (q + 1);
        return patterns;
    }

    static void SetRow(float[] patterns, int head, int row, params (int Key, float Weight)[] weights)
    {
        int t = Task.Context;
        Array.Clear(patterns, (head * t + row) * t, t);
        foreach (var (key, weight) in weights) patterns[(head * t + row) * t + key] = weight;
    }

    [Test]
    public void HandWrittenPatternsScoreAsTheDefinitionSays()
    {
        int t = Task.Context, query = Task.AnswerPosition;
        var tally = new RetrievalHeads.Tally(Task, layers: 1, heads: 3, hops: 2);
        var rng = new Rng(4);
        var sequence = new int[t];
        int examples = 200, reachable = 0;
        for (int e = 0; e < examples; e++)
        {
            Task.Write(rng, sequence, Task.Depth, Task.Depth);
            var chain = ChainPositions.Of(Task, sequence);
            // A rival of the value hop: another statement's rhs holding a value.
            int rival = Enumerable.Range(0, Task.StatementsEnd / 2).Select(s => 2 * s + 1)
                .First(p => p != chain[1] && sequence[p] >= Task.FirstValue);
            var patterns = UniformCausal(3, t);
            SetRow(patterns, 0, query, (chain[0], 1f));                   // head 0: the query reads hop 1's rhs
            SetRow(patterns, 2, query, (chain[1], 0.5f), (rival, 0.5f));  // head 2: half on hop 2's value, half on a rival value
            if (chain[1] < chain[0])
            {
                SetRow(patterns, 2, chain[0], (chain[1], 1f));            // … and along the chain: hop 1's rhs reads hop 2's rhs
                reachable++;
            }
            tally.Add(sequence, patterns);
        }
        Assume.That(reachable, Is.GreaterThan(20), "the shuffle puts hop 2's statement first in about half the examples");
        var scores = tally.Result();
        Assert.That(scores.Examples, Is.EqualTo(examples));
        Assert.That(scores.FromQuery[0, 0, 0], Is.EqualTo(1).Within(1e-6), "picks the needed name: 1");
        Assert.That(scores.FromQuery[0, 0, 1], Is.EqualTo(0).Within(1e-6), "puts nothing on any value: 0");
        for (int k = 0; k < 2; k++) Assert.That(scores.FromQuery[0, 1, k], Is.EqualTo(0).Within(1e-6), "uniform over everything before the query: 0");
        // 3 chains → 3 values in the context: 2 rivals of the needed one; half on the needed, half on one rival.
        Assert.That(scores.FromQuery[0, 2, 1], Is.EqualTo(0.5 - 0.5 / 2).Within(1e-6));
        Assert.That(scores.AlongChain[0, 2, 1], Is.EqualTo(1).Within(1e-6), "averaged over the examples where hop 2 comes first");
        Assert.That(scores.Score(0, 2, 1), Is.EqualTo(1).Within(1e-6), "the score is the larger view");
        Assert.That(scores.HopHeads().Select(x => (x.Layer, x.Head, x.Hop)), Is.EquivalentTo(new[] { (0, 0, 0), (0, 2, 1) }));
    }

    [Test]
    public void AModelWithZeroQueriesAndKeysScoresZeroFromTheQuery()
    {
        var config = new TransformerConfig { NLayers = 2, NHeads = 2, DModel = 8, DHead = 4, DMlp = null, NCtx = Task.Context, DVocab = Task.Vocabulary, DVocabOut = Task.Vocabulary, Normalization = "LN" };
        var model = new Transformer<float>(config, Initialization.PyTorch, new Rng(1));
        foreach (var block in model.Blocks)
        {
            block.Attention.WQ.Data.AsSpan().Clear();
            block.Attention.WK.Data.AsSpan().Clear();
        }
        var data = Task.EvaluationSet(hops: 2, count: 64, batchSize: 16, seed: 3);
        var scores = RetrievalHeads.Measure(model, Task, data, 64);
        Assert.That(scores.Examples, Is.EqualTo(64));
        foreach (double s in scores.FromQuery) Assert.That(s, Is.EqualTo(0).Within(1e-5));
        Assert.That(scores.HopHeads(), Is.Empty);
    }

    [Test]
    public void PatternsOfTheWrongSizeAreRefused()
    {
        var tally = new RetrievalHeads.Tally(Task, layers: 1, heads: 1, hops: 2);
        var sequence = new int[Task.Context];
        Task.Write(new Rng(0), sequence, 2, 2);
        Assert.Throws<ArgumentException>(() => tally.Add(sequence, new float[5]));
    }
}
