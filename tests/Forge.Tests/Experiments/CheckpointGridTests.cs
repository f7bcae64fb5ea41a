using Forge.Experiments.Training;

namespace Forge.Tests.Experiments;

public class CheckpointGridTests
{
    [Test]
    public void LogSpacedGridIsDenseEarlyAndEndsAtTheLastStep()
    {
        var grid = CheckpointGrid.LogSpaced(25, 7325);
        Assert.That(grid.Min, Is.EqualTo(1));
        Assert.That(grid.Max, Is.EqualTo(7325));
        Assert.That(grid.Count, Is.InRange(20, 25));
        var steps = grid.ToArray();
        var ratios = steps.Zip(steps.Skip(1), (a, b) => (double)b / a).Where((_, i) => steps[i] >= 10).ToArray();
        Assert.That(ratios, Has.All.InRange(1.2, 1.6), "≈ constant ratio between neighbours (log spacing)");
    }

    [Test]
    public void LinearAndCombinedSpecs()
    {
        Assert.That(CheckpointGrid.Linear(100, 350), Is.EqualTo(new[] { 100, 200, 300, 350 }));
        var combined = CheckpointGrid.Parse("log:4+linear:500", 1000);
        Assert.That(combined, Is.SupersetOf(new[] { 1, 10, 100, 500, 1000 }));
        Assert.That(Assert.Throws<ArgumentException>(() => CheckpointGrid.Parse("every:5", 10))!.Message, Does.Contain("every"));
        Assert.Throws<ArgumentException>(() => CheckpointGrid.Parse("log:x", 10));
    }
}
