using System.Text;

namespace Forge.Experiments.TextData;

/// <summary>
/// A small output vocabulary carved out of GPT-2's: a chosen list of N GPT-2 ids gets the dense ids
/// 0 … N−1, and every other GPT-2 id shares one more id, <see cref="UnknownId"/> = N.
/// <para>
/// Why: a tiny model's embedding and unembedding are [d_vocab, d_model] matrices; with GPT-2's 50,257 rows
/// they would dwarf the rest of the model, and most rows would never be trained on a million-word corpus.
/// Keeping GPT-2's own tokens (rather than training a small BPE) keeps the token boundaries of the real
/// tokenizer, and because text follows Zipf's law a few thousand ids cover almost every token.
/// </para>
/// <para>
/// Dense id 0 is always <c>&lt;|endoftext|&gt;</c>, reserved because it separates documents in every token
/// stream whatever its frequency; <see cref="MostFrequent"/> fills ids 1 … N−1 by decreasing frequency.
/// The model's vocabulary size is <see cref="Count"/> = N + 1.
/// </para>
/// </summary>
public sealed class RestrictedVocabulary
{
    /// <summary>How <see cref="Decode"/> shows a token outside the vocabulary.</summary>
    public const string UnknownMarker = "<unk>";

    readonly int[] gpt2Ids;        // [N]: dense id → GPT-2 id
    readonly int[] denseOfGpt2;    // [50,257]: GPT-2 id → dense id (UnknownId when not kept)

    /// <summary>
    /// The vocabulary that keeps <paramref name="gpt2Ids"/> in this order (dense id i = the i-th entry). The
    /// ids must be distinct GPT-2 ids and include <c>&lt;|endoftext|&gt;</c>; otherwise an <see cref="ArgumentException"/>.
    /// </summary>
    public RestrictedVocabulary(IEnumerable<int> gpt2Ids)
    {
        ArgumentNullException.ThrowIfNull(gpt2Ids);
        this.gpt2Ids = [.. gpt2Ids];
        denseOfGpt2 = new int[Gpt2Bpe.VocabularySize];
        Array.Fill(denseOfGpt2, -1);
        for (int dense = 0; dense < this.gpt2Ids.Length; dense++)
        {
            int id = this.gpt2Ids[dense];
            if ((uint)id >= Gpt2Bpe.VocabularySize)
                throw new ArgumentException($"{id} (entry {dense}) is not a GPT-2 id (0 to {Gpt2Bpe.VocabularySize - 1})");
            if (denseOfGpt2[id] >= 0)
                throw new ArgumentException($"GPT-2 id {id} appears twice (entries {denseOfGpt2[id]} and {dense})");
            denseOfGpt2[id] = dense;
        }
        if (denseOfGpt2[Gpt2Bpe.EndOfText] < 0)
            throw new ArgumentException($"the vocabulary must keep <|endoftext|> (GPT-2 id {Gpt2Bpe.EndOfText})");
        for (int id = 0; id < denseOfGpt2.Length; id++)
            if (denseOfGpt2[id] < 0) denseOfGpt2[id] = UnknownId;
    }

    /// <summary>
    /// <c>&lt;|endoftext|&gt;</c> followed by the <paramref name="size"/> − 1 GPT-2 ids that occur most often in
    /// <paramref name="gpt2Tokens"/> (a training split's stream; its <c>&lt;|endoftext|&gt;</c>s are not counted),
    /// most frequent first, ties broken by the smaller id. Ids that never occur fill any remaining places in id
    /// order, so the size is always exactly <paramref name="size"/>.
    /// </summary>
    public static RestrictedVocabulary MostFrequent(ReadOnlySpan<int> gpt2Tokens, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Gpt2Bpe.VocabularySize);
        var counts = new long[Gpt2Bpe.VocabularySize];
        foreach (int id in gpt2Tokens) counts[id]++;
        var ranked = Enumerable.Range(0, Gpt2Bpe.VocabularySize)
            .Where(id => id != Gpt2Bpe.EndOfText)
            .OrderByDescending(id => counts[id])
            .ThenBy(id => id)
            .Take(size - 1);
        return new RestrictedVocabulary(ranked.Prepend(Gpt2Bpe.EndOfText));
    }

    /// <summary>The kept GPT-2 ids in dense order (entry i has dense id i).</summary>
    public IReadOnlyList<int> Gpt2Ids => gpt2Ids;

    /// <summary>N, the number of kept GPT-2 ids.</summary>
    public int Size => gpt2Ids.Length;

    /// <summary>The number of dense ids, N + 1 with the unknown id: a model's <c>d_vocab</c>.</summary>
    public int Count => gpt2Ids.Length + 1;

    /// <summary>The dense id of every GPT-2 id that is not kept: N.</summary>
    public int UnknownId => gpt2Ids.Length;

    /// <summary>The dense id of <c>&lt;|endoftext|&gt;</c> (0 for vocabularies built by <see cref="MostFrequent"/>).</summary>
    public int EndOfTextId => denseOfGpt2[Gpt2Bpe.EndOfText];

    /// <summary>The dense id of a GPT-2 id: its place in the list, or <see cref="UnknownId"/>.</summary>
    public int ToDense(int gpt2Id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gpt2Id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(gpt2Id, Gpt2Bpe.VocabularySize);
        return denseOfGpt2[gpt2Id];
    }

    /// <summary>The GPT-2 id of a dense id; the unknown id has none (an <see cref="ArgumentOutOfRangeException"/>).</summary>
    public int ToGpt2(int denseId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(denseId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(denseId, Size);
        return gpt2Ids[denseId];
    }

    /// <summary>The dense ids of a sequence of GPT-2 ids.</summary>
    public int[] Map(ReadOnlySpan<int> gpt2Tokens)
    {
        var dense = new int[gpt2Tokens.Length];
        for (int i = 0; i < dense.Length; i++) dense[i] = denseOfGpt2[gpt2Tokens[i]];
        return dense;
    }

    /// <summary>The share of <paramref name="gpt2Tokens"/> that is kept (not mapped to <see cref="UnknownId"/>); 1 for no tokens.</summary>
    public double Coverage(ReadOnlySpan<int> gpt2Tokens)
    {
        if (gpt2Tokens.IsEmpty) return 1;
        long kept = 0;
        foreach (int id in gpt2Tokens) if (denseOfGpt2[id] != UnknownId) kept++;
        return (double)kept / gpt2Tokens.Length;
    }

    /// <summary>Text → GPT-2 BPE → dense ids.</summary>
    public int[] Encode(string text) => Map(Gpt2Bpe.Shared.Encode(text));

    /// <summary>
    /// Dense ids → text. Runs of kept ids are decoded together by GPT-2 (a character can span tokens); each
    /// unknown id shows as <see cref="UnknownMarker"/>. Encoding then decoding gives the text back exactly
    /// when every token of the text is kept.
    /// </summary>
    public string Decode(IEnumerable<int> denseIds)
    {
        ArgumentNullException.ThrowIfNull(denseIds);
        var text = new StringBuilder();
        var run = new List<int>();
        foreach (int dense in denseIds)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dense);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(dense, Count);
            if (dense != UnknownId) { run.Add(gpt2Ids[dense]); continue; }
            FlushRun(text, run);
            text.Append(UnknownMarker);
        }
        FlushRun(text, run);
        return text.ToString();
    }

    /// <summary>Writes the vocabulary as a small JSON file (see <see cref="RestrictedVocabularyFile"/>), atomically.</summary>
    public void Save(string path) => RestrictedVocabularyFile.Write(path, this);

    /// <summary>Reads a file written by <see cref="Save"/>; any problem is a one-line <see cref="Cli.UsageException"/> naming the file.</summary>
    public static RestrictedVocabulary Load(string path) => RestrictedVocabularyFile.Read(path);

    static void FlushRun(StringBuilder text, List<int> run)
    {
        if (run.Count == 0) return;
        text.Append(Gpt2Bpe.Shared.Decode(run));
        run.Clear();
    }
}
