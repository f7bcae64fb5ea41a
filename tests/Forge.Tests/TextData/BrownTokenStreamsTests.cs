using Forge.Experiments.TextData;
using Forge.Tests.Experiments;

namespace Forge.Tests.TextData;

/// <summary>Token streams of a split: layout (end-of-text before every document), the cache, and the dense mapping.</summary>
public class BrownTokenStreamsTests
{
    [Test]
    public void EveryDocumentIsPrecededByEndOfTextAndFollowsInFileIdOrder()
    {
        var documents = new[] { new BrownDocument("ca02", "news", "Hello world", 2), new BrownDocument("ca03", "news", "Hello", 1) };
        Assert.That(BrownTokenStreams.Encode(documents), Is.EqualTo(new[] { Gpt2Bpe.EndOfText, 15496, 995, Gpt2Bpe.EndOfText, 15496 }));
    }

    [Test]
    public void TheGpt2StreamIsCachedUnderTheCorpusContentAndReusedThen()
    {
        using var temp = new TempFolder();
        FakeBrown.WriteFolder(temp.Combine("corpus"));
        var corpus = BrownCorpus.FromFolder(temp.Combine("corpus"));
        string cacheRoot = temp.Combine("cache");

        int[] train = BrownTokenStreams.Gpt2(corpus, TextSplit.Train, cacheRoot);
        Assert.That(train, Is.EqualTo(BrownTokenStreams.Encode(corpus.Train)));
        Assert.That(train.Count(id => id == Gpt2Bpe.EndOfText), Is.EqualTo(corpus.Train.Count));
        string path = BrownTokenStreams.CachePath(corpus, TextSplit.Train, cacheRoot);
        Assert.That(path, Does.Contain(corpus.ContentHash).And.EndWith("gpt2-train.int32"));
        Assert.That(new FileInfo(path).Length, Is.EqualTo(train.Length * sizeof(int)));

        // Replace the cached stream with another valid one: a reused cache returns it instead of encoding.
        File.WriteAllBytes(path, BitConverter.GetBytes(Gpt2Bpe.EndOfText).Concat(BitConverter.GetBytes(7)).ToArray());
        Assert.That(BrownTokenStreams.Gpt2(corpus, TextSplit.Train, cacheRoot), Is.EqualTo(new[] { Gpt2Bpe.EndOfText, 7 }));

        // A damaged cache file is encoded afresh.
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(BrownTokenStreams.Gpt2(corpus, TextSplit.Train, cacheRoot), Is.EqualTo(train));
    }

    [Test]
    public void TheDenseStreamIsTheGpt2StreamMappedThroughTheVocabulary()
    {
        using var temp = new TempFolder();
        FakeBrown.WriteFolder(temp.Combine("corpus"));
        var corpus = BrownCorpus.FromFolder(temp.Combine("corpus"));
        int[] train = BrownTokenStreams.Gpt2(corpus, TextSplit.Train, temp.Combine("cache"));
        var vocabulary = RestrictedVocabulary.MostFrequent(train, size: 8);
        int[] validation = BrownTokenStreams.Dense(corpus, TextSplit.Validation, vocabulary, temp.Combine("cache"));
        Assert.That(validation, Is.EqualTo(vocabulary.Map(BrownTokenStreams.Encode(corpus.Validation))));
        Assert.That(validation[0], Is.EqualTo(vocabulary.EndOfTextId));
        Assert.That(validation, Has.Some.EqualTo(vocabulary.UnknownId), "the file ids are rare tokens");
        Assert.That(validation.Max(), Is.LessThan(vocabulary.Count));
    }
}
