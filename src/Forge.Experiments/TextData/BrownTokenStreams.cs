using System.Buffers.Binary;
using Forge.Models.Checkpoints;

namespace Forge.Experiments.TextData;

/// <summary>
/// A split of the Brown corpus as one long token stream, the form a language model trains on: every
/// document is preceded by <c>&lt;|endoftext|&gt;</c> and the documents follow each other in file-id order
/// (as in nanoGPT's data preparation, so the first document also starts after a separator and a context
/// window that crosses a boundary sees where the new document begins).
/// <para>
/// Encoding with GPT-2's BPE runs at 0.7 to 1 million tokens (3 to 5 M characters) a second on one core, 1.2 to 1.9 s
/// for the whole corpus (1.3 M tokens); small, but paid by every run, so the GPT-2 streams are cached in
/// <c>CACHE/tokens/SOURCE-CONTENTHASH/gpt2-SPLIT.int32</c> (little-endian int32s). The key is the corpus's
/// content hash, so a new corpus version or a change to the tag stripping encodes afresh. Streams in a
/// <see cref="RestrictedVocabulary"/> are not cached: mapping a million ids through a table takes
/// milliseconds, and one GPT-2 stream serves every vocabulary size.
/// </para>
/// </summary>
public static class BrownTokenStreams
{
    /// <summary>The GPT-2 ids of <paramref name="split"/>, from the cache in <paramref name="cacheRoot"/> (default <see cref="ForgeCache.Root"/>) or encoded and cached.</summary>
    public static int[] Gpt2(BrownCorpus corpus, TextSplit split, string? cacheRoot = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        string path = CachePath(corpus, split, cacheRoot ?? ForgeCache.Root());
        if (TryRead(path) is { } cached) return cached;
        int[] tokens = Encode(corpus.Split(split));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, stream => Write(stream, tokens));
        return tokens;
    }

    /// <summary>The dense ids of <paramref name="split"/> in <paramref name="vocabulary"/> (the GPT-2 stream, mapped).</summary>
    public static int[] Dense(BrownCorpus corpus, TextSplit split, RestrictedVocabulary vocabulary, string? cacheRoot = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return vocabulary.Map(Gpt2(corpus, split, cacheRoot));
    }

    /// <summary>Where the GPT-2 stream of <paramref name="split"/> is cached below <paramref name="cacheRoot"/>.</summary>
    public static string CachePath(BrownCorpus corpus, TextSplit split, string cacheRoot) =>
        Path.Combine(cacheRoot, "tokens", $"{corpus.Source}-{corpus.ContentHash}", $"gpt2-{split.ToString().ToLowerInvariant()}.int32");

    /// <summary>Encodes documents without any cache: <c>&lt;|endoftext|&gt;</c>, the first document's ids, <c>&lt;|endoftext|&gt;</c>, the second's, ….</summary>
    public static int[] Encode(IEnumerable<BrownDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var tokens = new List<int>();
        foreach (var document in documents)
        {
            tokens.Add(Gpt2Bpe.EndOfText);
            tokens.AddRange(Gpt2Bpe.Shared.Encode(document.Text));
        }
        return [.. tokens];
    }

    static void Write(Stream stream, int[] tokens)
    {
        var bytes = new byte[tokens.Length * sizeof(int)];
        for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), tokens[i]);
        stream.Write(bytes);
    }

    /// <summary>The cached stream, or null when there is none or it is not a stream this class wrote (then it is rebuilt).</summary>
    static int[]? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length % sizeof(int) != 0) return null;
        var tokens = new int[bytes.Length / sizeof(int)];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * sizeof(int)));
            if ((uint)tokens[i] >= Gpt2Bpe.VocabularySize) return null;
        }
        return tokens.Length > 0 && tokens[0] == Gpt2Bpe.EndOfText ? tokens : null;
    }
}
