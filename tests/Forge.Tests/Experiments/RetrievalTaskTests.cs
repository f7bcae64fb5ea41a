using Forge.Experiments.Retrieval;
using static Forge.Tests.Reliability.CliHarness;

namespace Forge.Tests.Experiments;

/// <summary>The retrieval task generator and the depth bound, with answers checked by following the chains by hand.</summary>
public class RetrievalTaskTests
{
    /// <summary>Follows the query name through the statements to a value; returns the value and the number of look-ups.</summary>
    static (int Value, int Hops) Resolve(RetrievalTask task, ReadOnlySpan<int> sequence)
    {
        var assignments = new Dictionary<int, int>();
        for (int p = 0; p + 1 < task.StatementsEnd; p += task.StatementLength)
        {
            if (sequence[p] == RetrievalTask.Pad) continue;
            Assert.That(assignments.TryAdd(sequence[p], sequence[p + 1]), $"name {sequence[p]} is assigned twice");
            if (task.Separator) Assert.That(sequence[p + 2], Is.EqualTo(RetrievalTask.Sep));
        }
        int token = sequence[task.Context - 2], hops = 0;
        while (token < task.FirstValue)
        {
            token = assignments[token];
            hops++;
        }
        return (token, hops);
    }

    [TestCase(4, 4, Curriculum.None)]
    [TestCase(7, 3, Curriculum.Mixed)]
    [TestCase(5, 4, Curriculum.Intermediate)]
    [TestCase(1, 2, Curriculum.None)]
    [TestCase(4, 3, Curriculum.Mixed, true)]
    [TestCase(3, 2, Curriculum.Intermediate, true)]
    public void EveryExampleResolvesToItsAnswerInTheStatedNumberOfLookUps(int depth, int chains, Curriculum curriculum, bool separator = false)
    {
        var task = new RetrievalTask(depth, chains, chains * depth + 3, chains + 2, curriculum, Separator: separator).Validate();
        var sequence = new int[task.Context];
        var rng = new Rng(9);
        var hopsSeen = new HashSet<int>();
        for (int trial = 0; trial < 300; trial++)
        {
            int d = 1 + rng.NextInt(depth), hops = 1 + rng.NextInt(d);
            int answer = task.Write(rng, sequence, d, hops);
            var (value, resolved) = Resolve(task, sequence);
            Assert.That((value, resolved), Is.EqualTo((answer, hops)), $"depth {d}, hops {hops}");
            Assert.That(sequence[^1], Is.EqualTo(answer));
            Assert.That(sequence[task.Context - 3], Is.EqualTo(RetrievalTask.Query));
            int padding = task.Context - (task.StatementLength * chains * d + 3);
            Assert.That(sequence[..padding].ToArray(), Has.All.EqualTo(RetrievalTask.Pad), "shorter examples are padded on the left");
            var values = sequence[padding..^3].ToArray().Where(t => t >= task.FirstValue).ToArray();
            Assert.That(values, Is.Unique.And.Length.EqualTo(chains), "one distinct value per chain");

            task.WriteTraining(rng, sequence);
            hopsSeen.Add(Resolve(task, sequence).Hops);
        }
        var expected = curriculum == Curriculum.None ? new[] { depth } : Enumerable.Range(1, depth).ToArray();
        Assert.That(hopsSeen.OrderBy(h => h), Is.EqualTo(expected), "the training data's numbers of look-ups follow the curriculum");
    }

    [Test]
    public void SeveralQueriesAskDistinctChainsAndOnlyTheFirstIsEvaluated()
    {
        var task = new RetrievalTask(3, 4, 20, 6, Curriculum.Intermediate, Queries: 3).Validate();
        Assert.That(task.Context, Is.EqualTo(2 * 4 * 3 + 3 * 3));
        Assert.That(task.AnswerPosition, Is.EqualTo(task.StatementsEnd + 1));
        var train = task.PositionMask();
        var eval = task.EvaluationMask();
        Assert.That(Enumerable.Range(0, task.Context).Where(p => train[p] == 1), Is.EqualTo(new[] { 25, 28, 31 }));
        Assert.That(Enumerable.Range(0, task.Context).Where(p => eval[p] == 1), Is.EqualTo(new[] { 25 }));
        var rng = new Rng(4);
        var sequence = new int[task.Context];
        var laterHops = new HashSet<int>();
        for (int trial = 0; trial < 200; trial++)
        {
            int answer = task.Write(rng, sequence, 3, 2, drawLaterHops: trial % 2 == 0);
            var assignments = new Dictionary<int, int>();
            for (int p = 0; p < task.StatementsEnd; p += 2) assignments[sequence[p]] = sequence[p + 1];
            var answers = new List<int>();
            for (int q = 0; q < 3; q++)
            {
                int at = task.StatementsEnd + 3 * q;
                Assert.That(sequence[at], Is.EqualTo(RetrievalTask.Query));
                int token = sequence[at + 1], hops = 0;
                while (token < task.FirstValue) { token = assignments[token]; hops++; }
                Assert.That(sequence[at + 2], Is.EqualTo(token), "each query's answer is its chain's value");
                if (q == 0) Assert.That((token, hops), Is.EqualTo((answer, 2)));
                else if (trial % 2 == 1) Assert.That(hops, Is.EqualTo(2));
                else laterHops.Add(hops);
                answers.Add(token);
            }
            Assert.That(answers, Is.Unique, "queries ask distinct chains");
        }
        Assert.That(laterHops.Order(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(() => new RetrievalTask(3, 2, 20, 6, Curriculum.None, Queries: 3).Validate(), Throws.ArgumentException.With.Message.Contains("queries (3)"));
    }

    [TestCase(1, 1)]
    [TestCase(4, 2)]
    [TestCase(5, 3)]
    [TestCase(13, 3)]
    [TestCase(14, 4)]
    [TestCase(40, 4)]
    [TestCase(41, 5)]
    public void TheBoundIsTheSmallestTWithThreeToTheTAtLeastTwiceTheDepth(int depth, int layers) =>
        Assert.That(RetrievalRecipe.LayersNeeded(depth), Is.EqualTo(layers));

    [Test]
    public void TooFewNamesOrValuesAreNamed()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new RetrievalTask(4, 4, 15, 8, Curriculum.None).Validate())!.Message, Does.Contain("16 distinct names"));
        Assert.That(Assert.Throws<ArgumentException>(() => new RetrievalTask(4, 4, 16, 3, Curriculum.None).Validate())!.Message, Does.Contain("4 distinct values"));
        var result = Run("retrieval", "--out", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid()), "--curriculum", "sometimes");
        Assert.That(result.IsOneLineUsageError, result.ToString());
        Assert.That(result.Err, Does.Contain("'sometimes'"));
    }

    [Test]
    public void AToyRunWritesItsReport()
    {
        using var temp = new TempFolder();
        string dir = temp.Combine("run");
        var result = Run("retrieval", "--out", dir, "--steps", "12", "--depth", "2", "--chains", "2", "--names", "8", "--values", "4", "--layers", "2",
            "--d-model", "16", "--d-head", "8", "--heads", "2", "--d-mlp", "32", "--train-size", "256", "--val-size", "64", "--batch-size", "16",
            "--eval-every", "6", "--checkpoints", "linear:6", "--warmup-steps", "2");
        Assert.That(result.Code, Is.EqualTo(0), result.ToString());
        Assert.That(File.ReadLines(Path.Combine(dir, "metrics.csv")).First(), Is.EqualTo("step,lr,train_loss,val_loss,val_acc,acc_hops_1,acc_hops_2"));
        Assert.That(File.ReadAllText(Path.Combine(dir, "report.md")), Does.Contain("⌈log₃(2·2)⌉ = 2 layers"));
    }

    [Test]
    public void ChainPositionsFollowTheQueriedChainByHand()
    {
        // 2 chains of depth 2: names 3…6, values 7…8 (PAD 0, QUERY 1, SEP 2). Chain A: (3 ← 7), (4 ← 3); chain B: (5 ← 8), (6 ← 5).
        var task = new RetrievalTask(2, 2, 4, 2, Curriculum.None);
        int[] sequence = [6, 5, 3, 7, 5, 8, 4, 3, RetrievalTask.Query, 4, 7];
        Assert.That(task.Context, Is.EqualTo(sequence.Length));
        // Query 4: hop 1 reads (4, 3), whose rhs is at 7; hop 2 reads (3, 7), rhs at 3.
        Assert.That(ChainPositions.Of(task, sequence), Is.EqualTo(new[] { 7, 3 }));
        sequence[9] = 6;
        Assert.That(ChainPositions.Of(task, sequence), Is.EqualTo(new[] { 1, 5 }), "query 6: (6, 5) then (5, 8)");

        // The same chains with a separator after each statement: rhs positions move to 3s + 1.
        var separated = new RetrievalTask(2, 2, 4, 2, Curriculum.None, Separator: true);
        int S = RetrievalTask.Sep;
        int[] withSeparators = [6, 5, S, 3, 7, S, 5, 8, S, 4, 3, S, RetrievalTask.Query, 4, 7];
        Assert.That(separated.Context, Is.EqualTo(withSeparators.Length));
        Assert.That(ChainPositions.Of(separated, withSeparators), Is.EqualTo(new[] { 10, 4 }));
    }
}
