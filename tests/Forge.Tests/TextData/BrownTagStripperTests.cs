using Forge.Experiments.TextData;

namespace Forge.Tests.TextData;

/// <summary>Hand-written lines in the tagged Brown form, with the plain text they must become.</summary>
public class BrownTagStripperTests
{
    static string Strip(string tagged) => BrownTagStripper.Strip(tagged).Text;

    [Test]
    public void TagsGoAndPunctuationAttachesToTheWordBeforeIt()
    {
        string tagged = "\tThe/at jury/nn said/vbd ,/, ``/`` no/at evidence/nn ''/'' ;/. it/pps left/vbd ?/. yes/rb !/. so/rb :/: done/vbn ./.";
        Assert.That(Strip(tagged), Is.EqualTo("The jury said, \"no evidence\"; it left? yes! so: done."));
    }

    [Test]
    public void QuotesHugWhatTheyQuoteAndClosingQuotesComeBeforeOrAfterPunctuationAsWritten()
    {
        string tagged = "``/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd ,/, ``/`` is/bez enough/ap ./. ''/''";
        Assert.That(Strip(tagged), Is.EqualTo("\"Only a handful\", the jury said, \"is enough.\""));
    }

    [Test]
    public void WordsSplitAtTheLastSlashSoSlashesInsideWordsSurvive()
    {
        string tagged = "Add/vb (/( 1/2/cd cup/nn )/) and/or/cc 3-1/2/cd mg/l/nn ,/, //in not/* --/-- never/rb ./.";
        Assert.That(Strip(tagged), Is.EqualTo("Add (1/2 cup) and/or 3-1/2 mg/l, / not -- never."));
    }

    [Test]
    public void SingleQuotesOpenAndCloseInTurnWithinAParagraph()
    {
        string tagged = "with/in the/at '/' Met/np '/' and/cc '/' pro/jj '/' ./.";
        Assert.That(Strip(tagged), Is.EqualTo("with the 'Met' and 'pro'."));
    }

    [Test]
    public void LinesOfABlockAreSentencesOfOneParagraphAndBlankLinesSeparateParagraphs()
    {
        string tagged = "\n\n\tFirst/od sentence/nn ./.\nSecond/od one/cd ./.\n\n\n\tNew/jj paragraph/nn ./.\n\n";
        Assert.That(Strip(tagged), Is.EqualTo("First sentence. Second one.\n\nNew paragraph."));
    }

    [Test]
    public void AHeadlineAtTheStartOfALineBecomesItsOwnParagraph()
    {
        string tagged = "\tEnd/nn ./.\n\n\nMerger/nn-hl proposed/vbn-hl \nHowever/wrb ,/, the/at jury/nn said/vbd so/rb ./.\n";
        Assert.That(Strip(tagged), Is.EqualTo("End.\n\nMerger proposed\n\nHowever, the jury said so."));
    }

    [Test]
    public void AHeadlineKeepsItsUntaggedQuotesButNotAnOpeningQuoteOfTheNextSentence()
    {
        Assert.That(Strip("``/`` Must/md-hl solve/vb-hl problem/nn-hl ''/'' \nIt/pps did/dod ./."),
            Is.EqualTo("\"Must solve problem\"\n\nIt did."));
        Assert.That(Strip("Seeks/vbz-hl fielding/vbg-hl ``/`` We/ppss do/do ''/'' ./."),
            Is.EqualTo("Seeks fielding\n\n\"We do\"."));
    }

    [Test]
    public void HeadlineTagsInsideASentenceStayInline()
    {
        Assert.That(Strip("It/pps is/bez as/cs follows/vbz :/: 1/cd-hl ./.-hl"), Is.EqualTo("It is as follows: 1."));
    }

    [Test]
    public void WordsCountTokensWithALetterOrDigitButNotPunctuation()
    {
        var (_, words) = BrownTagStripper.Strip("``/`` It's/pps+bez 1961/cd ,/, he/pps said/vbd --/-- ok/uh ./. ''/''\n\nAnd/cc 'em/ppo !/.");
        Assert.That(words, Is.EqualTo(7));
    }

    [Test]
    public void EmptyInputGivesEmptyText() => Assert.That(BrownTagStripper.Strip("\n\n  \n"), Is.EqualTo(("", 0)));
}
