using Forge.Experiments.Reports;

namespace Forge.Tests.Experiments;

public class ReportBuilderTests
{
    [Test]
    public void Builds_HeadingsParagraphsTablesFiguresAndClaims()
    {
        string run = Path.Combine(Path.GetTempPath(), "runs", "sorting-1");
        var markdown = new ReportBuilder(run)
            .Heading("Sorting", 1)
            .Paragraph("One layer, two heads.")
            .Code("Forge.Experiments sorting --seed 1", "bash")
            .Table(["seed", "val_acc", "mode"], [[1, 0.9989, "vocabulary-splitting"], [2, 0.5, "a|b"]])
            .Figure(Path.Combine(run, "figures", "ov circuits.png"), "OV circuits per head")
            .Bullets(["first", "second\nline"])
            .Heading("Claims and verdicts")
            .Claims(
            [
                new ClaimVerdict("A 1-layer attention-only transformer learns to sort.", Verdict.Supported, "val_acc 0.9989 over 5 seeds"),
                new ClaimVerdict("Copy-suppression calibrates the copying head.", Verdict.NotTested, ""),
            ])
            .ToString();

        Assert.That(markdown, Is.EqualTo(
            """
            # Sorting

            One layer, two heads.

            ```bash
            Forge.Experiments sorting --seed 1
            ```

            | seed | val_acc | mode |
            | --- | --- | --- |
            | 1 | 0.9989 | vocabulary-splitting |
            | 2 | 0.5 | a\|b |

            ![OV circuits per head](figures/ov%20circuits.png)

            *OV circuits per head*

            - first
            - second line

            ## Claims and verdicts

            | claim | verdict | evidence |
            | --- | --- | --- |
            | A 1-layer attention-only transformer learns to sort. | **supported** | val_acc 0.9989 over 5 seeds |
            | Copy-suppression calibrates the copying head. | **not tested** |  |

            """.ReplaceLineEndings("\n")));
    }

    [Test]
    public void Figure_RelativePathIsKeptAsGiven() =>
        Assert.That(new ReportBuilder().Figure("figures/loss.png", "Loss").ToString(), Does.StartWith("![Loss](figures/loss.png)"));

    [Test]
    public void Table_RowWithWrongCellCount_Throws() =>
        Assert.Throws<ArgumentException>(() => new ReportBuilder().Table(["a", "b"], [["only one"]]));

    [Test]
    public void VerdictTexts_AreDistinct() =>
        Assert.That(Enum.GetValues<Verdict>().Select(ClaimVerdict.Text).Distinct().Count(), Is.EqualTo(Enum.GetValues<Verdict>().Length));
}
