using Forge.Models.Training;

namespace Forge.Experiments.Retrieval;

/// <summary>Which examples the training data holds (the paper's "implicit curriculum" or not).</summary>
public enum Curriculum
{
    /// <summary>Every example has the full depth and asks for the end of a chain: only the hardest problem.</summary>
    None,
    /// <summary>(A) The depth of each example's chains is drawn uniformly from 1 … D: shorter problems beside the hard ones.</summary>
    Mixed,
    /// <summary>(B) Full-depth chains, but the query names a uniformly drawn position k of the chain: k hops, the intermediate steps supervised across examples.</summary>
    Intermediate,
}

/// <summary>
/// The retrieval problem, minimal formulation [ours]: K chains of assignments, each a value followed by
/// names that copy it — statements (n₁, v), (n₂, n₁), …, (n_d, n_{d−1}), two adjacent tokens each, "lhs
/// takes the value of rhs" — shuffled together; then QUERY and a name of one chain; the model must output
/// that chain's value. Answering the last name of a depth-d chain takes d look-ups. All K·d names of an
/// example are distinct, and so are its K values (the chance level is 1/K). Shorter examples are
/// padded on the left, so the statements always end at <see cref="StatementsEnd"/>.
/// <para>
/// <see cref="Queries"/> Q ≥ 1 queries of distinct chains follow the statements, each <c>QUERY name answer</c>;
/// training supervises every answer, evaluation only the first (which is exactly the one-query problem:
/// nothing after the statements precedes it). Later queries could narrow their answer by elimination
/// among the values already answered; that is why only the first is measured.
/// </para>
/// <para>
/// With <see cref="Separator"/> each statement is followed by a separator token, three tokens a statement
/// [ours]: the token after a name used as rhs is then always the separator, never the next statement's lhs,
/// so "the token after X" is unambiguous for the look-up that needs the statement whose lhs is X.
/// </para>
/// <para>
/// Tokens: PAD 0, QUERY 1, SEP 2, then <see cref="Names"/> name tokens, then <see cref="Values"/> value tokens.
/// </para>
/// </summary>
public sealed record RetrievalTask(int Depth, int Chains, int Names, int Values, Curriculum Curriculum, int Queries = 1, bool Separator = false)
{
    public const int Pad = 0, Query = 1, Sep = 2;
    public int FirstName => 3;
    public int FirstValue => 3 + Names;
    public int Vocabulary => 3 + Names + Values;

    /// <summary>Tokens per statement: lhs, rhs (and the separator).</summary>
    public int StatementLength => Separator ? 3 : 2;

    /// <summary>Where the statements end (they fill the positions before, left-padded) and the first query starts.</summary>
    public int StatementsEnd => StatementLength * Chains * Depth;

    /// <summary>Tokens of a full-depth example: the statements, then QUERY, a name and the answer per query.</summary>
    public int Context => StatementsEnd + 3 * Queries;

    /// <summary>The position whose next-token prediction is the first (the measured) answer: the first query's name.</summary>
    public int AnswerPosition => StatementsEnd + 1;

    public RetrievalTask Validate()
    {
        if (Depth < 1 || Chains < 1) throw new ArgumentException($"retrieval: depth ({Depth}) and chains ({Chains}) must be ≥ 1");
        if (Names < Chains * Depth) throw new ArgumentException($"retrieval: {Chains} chains of depth {Depth} need {Chains * Depth} distinct names; names is {Names}");
        if (Values < Chains) throw new ArgumentException($"retrieval: {Chains} chains need {Chains} distinct values; values is {Values}");
        if (Queries < 1 || Queries > Chains) throw new ArgumentException($"retrieval: queries ({Queries}) must be between 1 and chains ({Chains}): each asks a different chain");
        if ((long)StatementLength * Chains * Depth + 3L * Queries > 100_000) throw new ArgumentException($"retrieval: {Chains} chains of depth {Depth} make sequences longer than 100,000 tokens");
        return this;
    }

    /// <summary>
    /// Writes one example into <paramref name="sequence"/> (length <see cref="Context"/>): chains of depth
    /// <paramref name="depth"/>, the query asking for chain position <paramref name="hops"/> (1 = the
    /// name that reads the value directly, <paramref name="depth"/> = the chain's end). Later queries ask
    /// the same position of other chains, or with <paramref name="drawLaterHops"/> a uniformly drawn one.
    /// Returns the first answer.
    /// </summary>
    public int Write(Rng rng, Span<int> sequence, int depth, int hops, bool drawLaterHops = false)
    {
        sequence.Clear();   // PAD everywhere the example does not reach
        var names = rng.SampleWithoutReplacement(Names, Chains * depth);
        var values = rng.SampleWithoutReplacement(Values, Chains);
        // Statements as (lhs, rhs) pairs, chain by chain, then shuffled.
        var statements = new (int Lhs, int Rhs)[Chains * depth];
        for (int c = 0; c < Chains; c++)
            for (int k = 0; k < depth; k++)
            {
                int lhs = FirstName + names[c * depth + k];
                int rhs = k == 0 ? FirstValue + values[c] : FirstName + names[c * depth + k - 1];
                statements[c * depth + k] = (lhs, rhs);
            }
        rng.Shuffle(statements.AsSpan());
        int start = StatementsEnd - StatementLength * Chains * depth;
        for (int s = 0; s < statements.Length; s++)
        {
            sequence[start + StatementLength * s] = statements[s].Lhs;
            sequence[start + StatementLength * s + 1] = statements[s].Rhs;
            if (Separator) sequence[start + StatementLength * s + 2] = Sep;
        }
        // One query: any chain (the stream of the original one-query task); several: distinct chains.
        int[] targets = Queries == 1 ? [rng.NextInt(Chains)] : rng.SampleWithoutReplacement(Chains, Queries);
        for (int q = 0; q < Queries; q++)
        {
            int k = q > 0 && drawLaterHops ? 1 + rng.NextInt(depth) : hops;
            int at = StatementsEnd + 3 * q;
            sequence[at] = Query;
            sequence[at + 1] = FirstName + names[targets[q] * depth + k - 1];
            sequence[at + 2] = FirstValue + values[targets[q]];
        }
        return FirstValue + values[targets[0]];
    }

    /// <summary>A training example of this task's curriculum: its depth and hops drawn as the curriculum says.</summary>
    public void WriteTraining(Rng rng, Span<int> sequence)
    {
        switch (Curriculum)
        {
            case Curriculum.Mixed:
                int depth = 1 + rng.NextInt(Depth);
                Write(rng, sequence, depth, depth);
                break;
            case Curriculum.Intermediate:
                Write(rng, sequence, Depth, 1 + rng.NextInt(Depth), drawLaterHops: true);
                break;
            default:
                Write(rng, sequence, Depth, Depth);
                break;
        }
    }

    /// <summary>Training: the loss counts every query's answer.</summary>
    public float[] PositionMask()
    {
        var mask = new float[Context];
        for (int q = 0; q < Queries; q++) mask[AnswerPosition + 3 * q] = 1;
        return mask;
    }

    /// <summary>Evaluation: only the first answer counts.</summary>
    public float[] EvaluationMask()
    {
        var mask = new float[Context];
        mask[AnswerPosition] = 1;
        return mask;
    }

    /// <summary>A fixed set of <paramref name="count"/> training examples of the curriculum.</summary>
    public FixedTokenDataset<float> TrainingSet(int count, int batchSize, ulong seed, ulong shuffleSeed) =>
        Dataset(count, batchSize, seed, shuffleSeed, PositionMask(), (rng, sequence) => WriteTraining(rng, sequence));

    /// <summary>A fixed set of examples that each take <paramref name="hops"/> look-ups: depth-<paramref name="hops"/> chains asked at their end, or (intermediate curriculum) full-depth chains asked at position <paramref name="hops"/>.</summary>
    public FixedTokenDataset<float> EvaluationSet(int hops, int count, int batchSize, ulong seed) =>
        Dataset(count, batchSize, seed, seed, EvaluationMask(), (rng, sequence) =>
        {
            if (Curriculum == Curriculum.Intermediate) Write(rng, sequence, Depth, hops);
            else Write(rng, sequence, hops, hops);
        });

    FixedTokenDataset<float> Dataset(int count, int batchSize, ulong seed, ulong shuffleSeed, float[] mask, Action<Rng, Span<int>> write)
    {
        var rng = new Rng(seed);
        var sequences = new int[count * Context];
        for (int i = 0; i < count; i++) write(rng, sequences.AsSpan(i * Context, Context));
        return new FixedTokenDataset<float>(sequences, Context, mask, batchSize, shuffleSeed);
    }
}
