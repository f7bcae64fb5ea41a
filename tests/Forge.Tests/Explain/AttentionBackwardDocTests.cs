using System.Text.RegularExpressions;
using Forge.Tests.Peers;

namespace Forge.Tests.Explain;

/// <summary>
/// docs/attention-backward.md cannot go stale: every number block in it is a verbatim copy of a section of
/// <c>explain &lt;topic&gt;</c>'s output with default options, all sections appear in order, numbers in the
/// prose come from that output, and every code link points at a line that still holds what it names.
/// </summary>
public class AttentionBackwardDocTests
{
    static readonly string DocsFolder = Path.Combine(PythonPeer.RepositoryRoot, "docs");
    static readonly string DocText = File.ReadAllText(Path.Combine(DocsFolder, "attention-backward.md")).ReplaceLineEndings("\n");
    static readonly string[] Topics = ["attention", "layernorm", "cross-entropy"];

    /// <summary>A walkthrough block: the marker comment, then a fenced text block holding one printed section.</summary>
    static readonly Regex MarkedBlock = new(@"<!-- explain (?<topic>[a-z-]+) -->\n```text\n(?<body>.*?)\n```", RegexOptions.Singleline);

    static string[] PrintedSections(string topic)
    {
        var result = ExplainCommandTests.Run("explain", topic);
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        return result.Out.TrimEnd('\n').Split("\n\n");
    }

    [TestCaseSource(nameof(Topics))]
    public void EveryBlock_IsThePrintedSection_AllOfThemInOrder(string topic)
    {
        var sections = PrintedSections(topic);
        var blocks = MarkedBlock.Matches(DocText).Where(m => m.Groups["topic"].Value == topic).Select(m => m.Groups["body"].Value).ToList();
        for (int n = 0; n < Math.Min(blocks.Count, sections.Length); n++)
            Assert.That(blocks[n], Is.EqualTo(sections[n]),
                $"block {n} of 'explain {topic}' in docs/attention-backward.md differs from what the command prints now; " +
                $"paste the new output of 'dotnet run --project src/Forge.Experiments -c Release -- explain {topic}' (sections are separated by blank lines)");
        Assert.That(blocks, Has.Count.EqualTo(sections.Length), $"the page quotes every section of 'explain {topic}', once");
    }

    [Test]
    public void EveryTextBlock_IsMarked_WithAKnownTopic()
    {
        var markers = Regex.Matches(DocText, @"<!-- explain (\S+) -->").Select(m => m.Groups[1].Value).ToList();
        Assert.That(markers.Distinct(), Is.SubsetOf(Topics));
        Assert.That(Regex.Matches(DocText, "```text").Count, Is.EqualTo(MarkedBlock.Matches(DocText).Count),
            "every ```text block is a marked walkthrough section");
    }

    [Test]
    public void NumbersInTheProse_AppearInThePrintedOutput()
    {
        string printed = string.Join("\n", Topics.SelectMany(PrintedSections));
        string prose = MarkedBlock.Replace(DocText, "").Replace('−', '-');
        var numbers = Regex.Matches(prose, @"(?<![\w.])-?\d+\.\d+(?![\w.])").Select(m => m.Value).Distinct().ToList();
        foreach (var number in numbers)
            Assert.That(printed, Does.Contain(number), $"the prose quotes {number}, which the walkthroughs do not print");
    }

    [Test]
    public void Links_AreRelative_AndPointAtTheCodeTheyName()
    {
        var links = Regex.Matches(DocText, @"\[(?<text>[^\]]+)\]\((?<target>[^)\s]+)\)").ToList();
        Assert.That(links, Is.Not.Empty);
        int lineLinks = 0;
        foreach (Match link in links)
        {
            string target = link.Groups["target"].Value, text = link.Groups["text"].Value;
            Assert.That(target, Does.Not.StartWith("/").And.Not.Contain("://").And.Not.Contain("shared/"), $"{target}: links stay inside the repository, relative");
            var parts = target.Split('#');
            string file = Path.GetFullPath(Path.Combine(DocsFolder, parts[0]));
            Assert.That(file, Does.StartWith(PythonPeer.RepositoryRoot), target);
            Assert.That(File.Exists(file), Is.True, $"{target}: no such file");
            if (parts.Length < 2) continue;

            // "#L123": the link text is `Name` or `Type.Name`, and line 123 must still hold Name.
            var anchor = Regex.Match(parts[1], @"^L(\d+)$");
            Assert.That(anchor.Success, Is.True, $"{target}: anchors are #L<line>");
            Assert.That(text, Does.StartWith("`").And.EndWith("`"), $"{target}: a line link quotes the code it points at");
            string name = text.Trim('`').Split('.')[^1];
            string line = File.ReadLines(file).ElementAtOrDefault(int.Parse(anchor.Groups[1].Value) - 1) ?? "";
            Assert.That(line, Does.Contain(name), $"{target} no longer points at {text}: the code moved; update the line number");
            lineLinks++;
        }
        Assert.That(lineLinks, Is.GreaterThanOrEqualTo(15), "every step links to its code");
    }

    [Test]
    public void NamesNoMachinePaths()
    {
        Assert.That(DocText, Does.Not.Match(@"(^|[\s(`'""])/(work|tmp|root|home)/"));
        Assert.That(DocText, Does.Not.Contain("../shared"));
    }
}
