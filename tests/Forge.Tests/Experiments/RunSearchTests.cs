using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

/// <summary>How sweep reports name the folders they searched: never a path of the machine that wrote them.</summary>
public class RunSearchTests
{
    [Test]
    public void SearchedFoldersAreNamedRelativeToTheReportOrByTheirOwnName()
    {
        string root = Path.Combine(Path.GetTempPath(), "forge-describe");
        string report = Path.Combine(root, "report");
        Assert.That(RunSearch.Describe([Path.Combine(report, "runs", "a")], report), Is.EqualTo($"`{Path.Combine("runs", "a")}`"));
        Assert.That(RunSearch.Describe([Path.Combine(root, "sweep") + Path.DirectorySeparatorChar, Path.Combine(root, "reports")], report),
            Is.EqualTo("`sweep`, `reports`"));
        Assert.That(RunSearch.Describe([report], report), Is.EqualTo("`.`"));
    }
}
