using System.Globalization;
using Forge.Experiments.Reports;
using Forge.Experiments.Sorting;
using Forge.Experiments.Sorting.Sweep;

namespace Forge.Tests.Experiments;

/// <summary>The development aggregation of claim 6: stages from a hand-written development.csv, their LLC trend and validity, and the verdicts.</summary>
public class DevelopmentRunTests
{
    const string Header = "step,val_loss,val_acc,train_loss,llc,llc_std,mode,copied_h0,copy_score_h0,copied_h1,copy_score_h1";

    static string Row(long step, double llc, SortingMode mode) =>
        string.Join(',', step, 1.0 / step, 0.9, 1.0 / step, llc.ToString(CultureInfo.InvariantCulture), 1, mode, 10, 0.1, 20, 0.2);

    /// <summary>LLC −50, −40, 100, 200, 300, 250, 150, 100 → smoothed rises until step 5 (index 4), falls after: one boundary.</summary>
    static string Csv(params (long Step, double Llc, SortingMode Mode)[] rows) =>
        string.Join('\n', rows.Select(r => Row(r.Step, r.Llc, r.Mode)).Prepend(Header)) + "\n";

    static DevelopmentRun Write(TempFolder temp, string name, string csv)
    {
        string folder = temp.Combine(name);
        FakeSortingRun.Write(folder, SortingSetting.Base, 0, SortingMode.VocabularySplitting);
        File.WriteAllText(Path.Combine(folder, DevelopmentRun.FileName), csv);
        return DevelopmentRun.Read(FinishedRun.Read(folder)!)!;
    }

    const SortingMode O = SortingMode.Overlapping, S = SortingMode.VocabularySplitting;

    [Test]
    public void StagesSplitAtTheTurnOfTheSmoothedLlc()
    {
        using var temp = new TempFolder();
        var run = Write(temp, "a", Csv((1, -50, O), (2, -40, O), (3, 100, O), (4, 200, O), (5, 300, O), (6, 250, S), (7, 150, S), (8, 100, S)));
        // smoothed: −45, 3.3, 86.7, 200, 250, 233.3, 166.7, 125 → rises to index 4 (step 5), then falls.
        Assert.That(SortingDevelopment.StageBoundaries(run.Points), Is.EqualTo(new long[] { 5 }));
        Assert.That(run.Stages, Has.Count.EqualTo(2));
        var (rise, fall) = (run.Stages[0], run.Stages[1]);
        Assert.That((rise.FirstStep, rise.LastStep, rise.Falls, rise.Valid), Is.EqualTo((1L, 5L, false, false)), "negative early estimates make the rising stage invalid");
        Assert.That((fall.FirstStep, fall.LastStep, fall.Falls, fall.Valid), Is.EqualTo((5L, 8L, true, true)));
        Assert.That(fall.LlcStart, Is.EqualTo(250).Within(1e-9));
        Assert.That(fall.LlcEnd, Is.EqualTo(125).Within(1e-9));
        Assert.That(fall.Modes, Is.EqualTo(new[] { O, S }));
        Assert.That(run.ModeSequence, Is.EqualTo(new[] { O, S }));
        Assert.That(run.FirstValidFallingStage, Is.SameAs(fall));
    }

    [Test]
    public void AMonotoneLlcIsOneStageThatNeverFalls()
    {
        using var temp = new TempFolder();
        var run = Write(temp, "b", Csv((1, 10, O), (2, 20, O), (3, 30, S), (4, 40, S), (5, 50, S)));
        Assert.That(run.Stages, Has.Count.EqualTo(1));
        Assert.That(run.Stages[0].Falls, Is.False);
        Assert.That(run.FirstValidFallingStage, Is.Null);
    }

    [Test]
    public void TheStageHalfCountsRunsWithAValidFallingStage()
    {
        using var temp = new TempFolder();
        var falls = Csv((1, -50, O), (2, -40, O), (3, 100, O), (4, 200, O), (5, 300, O), (6, 250, S), (7, 150, S), (8, 100, S));
        var rises = Csv((1, 10, O), (2, 20, O), (3, 30, S), (4, 40, S), (5, 50, S));
        var three = new[] { Write(temp, "1", falls), Write(temp, "2", falls), Write(temp, "3", rises) };
        Assert.That(DevelopmentSection.StageHalf(three).Verdict, Is.EqualTo(Verdict.PartlySupported), "2 of 3 < 80 %");
        Assert.That(DevelopmentSection.StageHalf([three[0], three[1], Write(temp, "4", falls)]).Verdict, Is.EqualTo(Verdict.Supported));
        Assert.That(DevelopmentSection.StageHalf([three[2], three[2], three[2]]).Verdict, Is.EqualTo(Verdict.NotSupported));
        Assert.That(DevelopmentSection.StageHalf([]).Verdict, Is.EqualTo(Verdict.NotTested));
        Assert.That(DevelopmentSection.StageHalf(three).Evidence, Does.Contain("3 runs").And.Contain("valid (positive) estimates in 2"));
    }

    [Test]
    public void AFallWithinTheChainsSpreadIsNotAClearFall()
    {
        using var temp = new TempFolder();
        // The same shape as above, but every LLC with a spread of 100 over chains: the fall 250 → 125 is < 2 × 100.
        var noisy = Csv((1, -50, O), (2, -40, O), (3, 100, O), (4, 200, O), (5, 300, O), (6, 250, S), (7, 150, S), (8, 100, S)).Replace(",1,Overlapping,", ",100,Overlapping,").Replace(",1,VocabularySplitting,", ",100,VocabularySplitting,");
        var run = Write(temp, "noisy", noisy);
        Assert.That(run.Stages[1].Falls && run.Stages[1].Valid, "it does fall");
        Assert.That(run.Stages[1].FallsClearly, Is.False);
        Assert.That(run.FirstValidFallingStage, Is.Null);
    }

    [TestCase(Verdict.Supported, Verdict.Supported, Verdict.Supported)]
    [TestCase(Verdict.Supported, Verdict.NotTested, Verdict.PartlySupported)]
    [TestCase(Verdict.NotSupported, Verdict.Supported, Verdict.PartlySupported)]
    [TestCase(Verdict.NotSupported, Verdict.NotTested, Verdict.NotSupported)]
    [TestCase(Verdict.Inconclusive, Verdict.NotTested, Verdict.Inconclusive)]
    [TestCase(Verdict.NotTested, Verdict.NotTested, Verdict.NotTested)]
    public void TheHalvesCombine(Verdict a, Verdict b, Verdict combined)
    {
        Assert.That(SweepClaims.Combine(a, b), Is.EqualTo(combined));
        Assert.That(SweepClaims.Combine(b, a), Is.EqualTo(combined), "order does not matter");
    }

    [Test]
    public void AForeignCsvIsNamed()
    {
        using var temp = new TempFolder();
        string folder = temp.Combine("bad");
        FakeSortingRun.Write(folder, SortingSetting.Base, 0, SortingMode.VocabularySplitting);
        File.WriteAllText(Path.Combine(folder, DevelopmentRun.FileName), "a,b\n1,2\n");
        var (runs, unreadable) = DevelopmentSection.Read([FinishedRun.Read(folder)!]);
        Assert.That(runs, Is.Empty);
        Assert.That(unreadable.Single(), Does.Contain("not a development.csv"));
    }
}
