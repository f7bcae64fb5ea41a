using Forge.Experiments.Cli;
using Forge.Experiments.TextData;
using Forge.Tests.Experiments;

namespace Forge.Tests.TextData;

/// <summary>The GPT-2 tokenizer and the small vocabulary carved out of it: known answers on tiny inputs.</summary>
public class RestrictedVocabularyTests
{
    const int EndOfText = Gpt2Bpe.EndOfText;

    [Test]
    public void Gpt2EncodesKnownTextToItsKnownIdsWithoutANetwork()
    {
        // Reference ids from OpenAI's tiktoken "gpt2" encoding.
        Assert.That(Gpt2Bpe.Shared.Encode("Hello world"), Is.EqualTo(new[] { 15496, 995 }));
        Assert.That(Gpt2Bpe.Shared.Encode("the cat and the dog"), Is.EqualTo(new[] { 1169, 3797, 290, 262, 3290 }));
        Assert.That(Gpt2Bpe.Shared.Decode([15496, 11, 995, 13]), Is.EqualTo("Hello, world."));
    }

    [Test]
    public void TheMostFrequentIdsAreKeptTiesGoToTheSmallerIdAndEndOfTextIsAlwaysDenseZero()
    {
        int[] stream = [EndOfText, 5, 5, 5, 7, 7, 9, 3, 3, EndOfText, 9, 7, 3];   // counts: 5→3, 7→3, 3→3, 9→2
        var vocabulary = RestrictedVocabulary.MostFrequent(stream, size: 3);
        Assert.That(vocabulary.Gpt2Ids, Is.EqualTo(new[] { EndOfText, 3, 5 }));
        Assert.That((vocabulary.Size, vocabulary.Count, vocabulary.UnknownId, vocabulary.EndOfTextId), Is.EqualTo((3, 4, 3, 0)));
        Assert.That(vocabulary.Map([5, 7, 3, 9, EndOfText]), Is.EqualTo(new[] { 2, 3, 1, 3, 0 }));
        Assert.That(vocabulary.Coverage([5, 7, 3, 9]), Is.EqualTo(0.5));
        Assert.That(vocabulary.ToGpt2(1), Is.EqualTo(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.ToGpt2(vocabulary.UnknownId));
    }

    [Test]
    public void IdsThatNeverOccurFillTheRemainingPlacesInIdOrder()
    {
        var vocabulary = RestrictedVocabulary.MostFrequent([10, 10, 2], size: 5);
        Assert.That(vocabulary.Gpt2Ids, Is.EqualTo(new[] { EndOfText, 10, 2, 0, 1 }));
    }

    [Test]
    public void OnATinyTextFrequentTokensSurviveAndRareOnesBecomeUnknown()
    {
        string text = "the cat and the dog and the bird";   // " the" (262) and " and" (290) twice each, the rest once
        var vocabulary = RestrictedVocabulary.MostFrequent(Gpt2Bpe.Shared.Encode(text), size: 3);
        Assert.That(vocabulary.Gpt2Ids, Is.EqualTo(new[] { EndOfText, 262, 290 }));
        int[] dense = vocabulary.Encode("the cat and the dog");
        Assert.That(dense, Is.EqualTo(new[] { 3, 3, 2, 1, 3 }));
        Assert.That(vocabulary.Decode(dense), Is.EqualTo("<unk><unk> and the<unk>"));
    }

    [Test]
    public void TextWhoseTokensAreAllKeptRoundTripsExactly()
    {
        string text = "Café “naïve” — the jury said, \"no.\"\n\nNew paragraph.";
        var vocabulary = RestrictedVocabulary.MostFrequent(Gpt2Bpe.Shared.Encode(text), size: 64);
        int[] dense = vocabulary.Encode(text);
        Assert.That(dense, Has.None.EqualTo(vocabulary.UnknownId));
        Assert.That(vocabulary.Decode(dense), Is.EqualTo(text));
        Assert.That(vocabulary.Decode([vocabulary.EndOfTextId]), Is.EqualTo("<|endoftext|>"));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([vocabulary.Count]));
    }

    [Test]
    public void SavedAndLoadedTheVocabularyIsTheSame()
    {
        using var temp = new TempFolder();
        var vocabulary = RestrictedVocabulary.MostFrequent([EndOfText, 42, 42, 7, 50255], size: 4);
        string path = temp.Combine("vocabulary.json");
        vocabulary.Save(path);
        Assert.That(File.ReadAllText(path), Is.EqualTo("{\n  \"tokenizer\": \"gpt2\",\n  \"gpt2_ids\": [50256, 42, 7, 50255]\n}\n"));
        var loaded = RestrictedVocabulary.Load(path);
        Assert.That(loaded.Gpt2Ids, Is.EqualTo(vocabulary.Gpt2Ids));
        Assert.That(loaded.Map([42, 1, EndOfText]), Is.EqualTo(new[] { 1, 4, 0 }));
    }

    [TestCase("{ \"tokenizer\": \"gpt2\", \"gpt2_ids\": [50256, 1, ", "not valid JSON")]
    [TestCase("[1, 2, 3]", "not valid JSON")]
    [TestCase("{ \"tokenizer\": \"cl100k\", \"gpt2_ids\": [50256] }", "tokenizer")]
    [TestCase("{ \"tokenizer\": \"gpt2\" }", "gpt2_ids")]
    [TestCase("{ \"tokenizer\": \"gpt2\", \"gpt2_ids\": [50256, 1, 1] }", "twice")]
    [TestCase("{ \"tokenizer\": \"gpt2\", \"gpt2_ids\": [50256, 50257] }", "50257")]
    [TestCase("{ \"tokenizer\": \"gpt2\", \"gpt2_ids\": [1, 2] }", "endoftext")]
    [TestCase("{ \"tokenizer\": \"gpt2\", \"gpt2_ids\": [50256], \"extra\": 1 }", "extra")]
    public void ACorruptFileIsAOneLineErrorNamingTheFile(string content, string problem)
    {
        using var temp = new TempFolder();
        string path = temp.Combine("vocabulary.json");
        File.WriteAllText(path, content);
        var error = Assert.Throws<UsageException>(() => RestrictedVocabulary.Load(path));
        Assert.That(error!.Message, Does.Contain(path).And.Contain(problem).And.Not.Contain("\n"));
    }

    [Test]
    public void AMissingFileIsAOneLineErrorNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid(), "vocabulary.json");
        var error = Assert.Throws<UsageException>(() => RestrictedVocabulary.Load(path));
        Assert.That(error!.Message, Does.Contain(path).And.Contain("not found"));
    }
}
