namespace Forge.Experiments.Affine;

/// <summary>Test MSE per predicted position of one group of test sequences, beside the two baselines.</summary>
/// <param name="Label">The group: "all", "a > 0", "|a| ≥ 0.5", …</param>
/// <param name="Sequences">How many test sequences the group holds.</param>
public sealed record PositionMse(string Label, int Sequences, double[] Model, double[] CopyLast, double[] Oracle)
{
    /// <summary>Model MSE / copy-last MSE per position.</summary>
    public double[] RatioToCopyLast => Model.Zip(CopyLast, (m, c) => m / c).ToArray();
}

/// <summary>
/// How well the model predicts the next term, per position, on the held-out set — overall and split by the
/// sign of a and by |a| — against copy-last (x_n) and the oracle (exact from position 2 on).
/// </summary>
public static class AffinePerformance
{
    /// <summary>The groups of test sequences the report compares.</summary>
    public static IReadOnlyList<(string Label, Func<AffineTestSet, int, bool> Include)> Groups { get; } =
    [
        ("all", (_, _) => true),
        ("a > 0", (t, i) => t.A[i] > 0),
        ("a < 0", (t, i) => t.A[i] < 0),
        ("|a| < 0.5", (t, i) => Math.Abs(t.A[i]) < 0.5),
        ("|a| ≥ 0.5", (t, i) => Math.Abs(t.A[i]) >= 0.5),
    ];

    public static IReadOnlyList<PositionMse> Measure(AffineRun run)
    {
        var test = run.TestSet;
        var predictions = run.PredictTestSet();
        return Groups.Select(g =>
        {
            bool Include(int i) => g.Include(test, i);
            return new PositionMse(g.Label, Enumerable.Range(0, test.Count).Count(Include), test.MsePerPosition(predictions, Include),
                test.BaselineMsePerPosition(AffineTask.CopyLast, Include), test.BaselineMsePerPosition(run.Task.Oracle, Include));
        }).ToList();
    }
}
