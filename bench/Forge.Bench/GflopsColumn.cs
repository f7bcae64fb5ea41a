using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Forge.Bench;

/// <summary>
/// A summary column with the achieved rate, flops(case) / median time, in GFLOP/s. The median rather
/// than the mean, because a shared machine adds occasional slow outliers.
/// </summary>
public sealed class GflopsColumn(Func<BenchmarkCase, double> flops) : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public string Legend => "Floating-point operations per second, flops / median time, in units of 10^9";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        return medianNs is > 0 ? (flops(benchmarkCase) / medianNs.Value).ToString("F1") : "-";
    }
}
