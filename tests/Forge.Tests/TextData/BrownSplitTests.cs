using Forge.Experiments.TextData;
using Forge.Tests.Experiments;

namespace Forge.Tests.TextData;

/// <summary>The fixed document split: the rule on file ids, and its properties on a fake corpus and on the real id list.</summary>
public class BrownSplitTests
{
    [TestCase("ca01", TextSplit.Validation)]
    [TestCase("cj71", TextSplit.Validation)]
    [TestCase("ca02", TextSplit.Train)]
    [TestCase("ca10", TextSplit.Train)]
    [TestCase("cr09", TextSplit.Train)]
    public void FilesWhoseNumberEndsInOneAreValidation(string fileId, TextSplit expected) =>
        Assert.That(BrownSplit.Of(fileId), Is.EqualTo(expected));

    [TestCase("ca1")]
    [TestCase("xa01")]
    [TestCase("cA01")]
    [TestCase("ca0x")]
    public void AnythingElseIsNotAFileId(string text) => Assert.Throws<ArgumentException>(() => BrownSplit.Of(text));

    [Test]
    public void OnAFakeCorpusTheSplitIsDeterministicDisjointCompleteAndHasEveryCategoryOnBothSides()
    {
        using var temp = new TempFolder();
        FakeBrown.WriteFolder(temp.Path);
        var corpus = BrownCorpus.FromFolder(temp.Path);
        var again = BrownCorpus.FromFolder(temp.Path);

        var train = corpus.Train.Select(d => d.FileId).ToList();
        var validation = corpus.Validation.Select(d => d.FileId).ToList();
        Assert.That(again.Train.Select(d => d.FileId), Is.EqualTo(train));
        Assert.That(again.Validation.Select(d => d.FileId), Is.EqualTo(validation));
        Assert.That(train.Intersect(validation), Is.Empty);
        Assert.That(train.Concat(validation), Is.EquivalentTo(FakeBrown.FileIds));
        Assert.That(validation, Is.EqualTo(new[] { "ca01", "cb01", "cr01", "cr11" }));
        Assert.That(corpus.Train.Select(d => d.Category).Distinct(), Is.EquivalentTo(new[] { "news", "editorial", "humor" }));
        Assert.That(corpus.Validation.Select(d => d.Category).Distinct(), Is.EquivalentTo(new[] { "news", "editorial", "humor" }));
        Assert.That(corpus.Split(TextSplit.Train), Is.SameAs(corpus.Train));
        Assert.That(corpus.Documents.Select(d => d.Text), Is.EqualTo(FakeBrown.FileIds.Select(FakeBrown.Plain)));
    }

    [Test]
    public void OnTheRealFileIdsTheSplitIsAboutTenPercentWithEveryCategoryOnBothSides()
    {
        // The real corpus numbers each category's files from 01 without gaps; these are its counts (cats.txt).
        var filesPerCategory = new Dictionary<char, int>
        {
            ['a'] = 44, ['b'] = 27, ['c'] = 17, ['d'] = 17, ['e'] = 36, ['f'] = 48, ['g'] = 75, ['h'] = 30,
            ['j'] = 80, ['k'] = 29, ['l'] = 24, ['m'] = 6, ['n'] = 29, ['p'] = 29, ['r'] = 9,
        };
        var ids = filesPerCategory.SelectMany(c => Enumerable.Range(1, c.Value).Select(n => $"c{c.Key}{n:D2}")).ToList();
        Assert.That(ids, Has.Count.EqualTo(500));
        var validation = ids.Where(id => BrownSplit.Of(id) == TextSplit.Validation).ToList();
        Assert.That(validation, Has.Count.EqualTo(54));
        foreach (var (letter, files) in filesPerCategory)
        {
            int held = validation.Count(id => id[1] == letter);
            Assert.That(held, Is.EqualTo((files + 9) / 10), $"category {letter}");
            Assert.That(files - held, Is.GreaterThan(0), $"category {letter} trains on something");
        }
    }

    [Test]
    public void AFolderWhoseCatalogueListsAMissingFileIsAOneLineUsageError()
    {
        using var temp = new TempFolder();
        FakeBrown.WriteFolder(temp.Path);
        File.Delete(temp.Combine("cb02"));
        var error = Assert.Throws<Forge.Experiments.Cli.UsageException>(() => BrownCorpus.FromFolder(temp.Path));
        Assert.That(error!.Message, Does.Contain("cb02").And.Not.Contain("\n"));
    }
}
