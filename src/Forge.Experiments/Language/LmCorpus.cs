using Forge.Experiments.TextData;

namespace Forge.Experiments.Language;

/// <summary>
/// The data of the language models: the Brown corpus's training and validation streams in a restricted GPT-2
/// vocabulary, cut into context windows. Loaded once per process, cache folder and vocabulary size (the corpus, its GPT-2
/// streams and the package are cached on disk by <see cref="BrownCorpus"/> and <see cref="BrownTokenStreams"/>).
/// </summary>
public sealed class LmCorpus
{
    static readonly Dictionary<(string Cache, int Size), LmCorpus> s_loaded = [];
    static readonly Lock s_lock = new();

    LmCorpus(RestrictedVocabulary vocabulary, int[] train, int[] validation, string source) =>
        (Vocabulary, Train, Validation, Source) = (vocabulary, train, validation, source);

    public RestrictedVocabulary Vocabulary { get; }
    /// <summary>Dense ids of the training split, documents separated by &lt;|endoftext|&gt;.</summary>
    public int[] Train { get; }
    public int[] Validation { get; }
    /// <summary>The share of held-out tokens inside the vocabulary (not &lt;unk&gt;).</summary>
    public double ValidationCoverage => Validation.Count(id => id != Vocabulary.UnknownId) / (double)Validation.Length;

    /// <summary>The corpus version and content hash (recorded in the report).</summary>
    public string Source { get; }

    /// <summary>The corpus in a vocabulary of the <paramref name="size"/> most frequent training tokens (fetched on first use; a one-line error when it cannot be).</summary>
    public static LmCorpus Load(int size)
    {
        lock (s_lock)
        {
            var key = (ForgeCache.Root(), size);
            if (s_loaded.TryGetValue(key, out var loaded)) return loaded;
            var corpus = BrownCorpus.Load();
            var trainGpt2 = BrownTokenStreams.Gpt2(corpus, TextSplit.Train);
            var vocabulary = RestrictedVocabulary.MostFrequent(trainGpt2, size);
            var result = new LmCorpus(vocabulary, vocabulary.Map(trainGpt2), BrownTokenStreams.Dense(corpus, TextSplit.Validation, vocabulary),
                $"{corpus.Source} (content {corpus.ContentHash})");
            s_loaded[key] = result;
            return result;
        }
    }

    /// <summary>
    /// Windows of <paramref name="context"/> tokens, each starting where the previous one's last token is, so
    /// every token after the first is a prediction target exactly once: [windows × context], flattened.
    /// </summary>
    public static int[] Windows(int[] stream, int context, int limit = 0)
    {
        int stride = context - 1;
        int count = stream.Length < context ? 0 : (stream.Length - context) / stride + 1;
        if (limit > 0) count = Math.Min(count, limit);
        if (count == 0) throw new ArgumentException($"lm: a stream of {stream.Length} tokens holds no window of {context}");
        var windows = new int[count * context];
        for (int w = 0; w < count; w++) stream.AsSpan(w * stride, context).CopyTo(windows.AsSpan(w * context));
        return windows;
    }
}
