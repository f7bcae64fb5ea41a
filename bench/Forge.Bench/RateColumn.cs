using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Forge.Bench;

/// <summary>
/// A summary column with an achieved rate, amount(case) / median time: GFLOP/s from flops, GB/s from
/// bytes (both 10^9 per second, i.e. amount per nanosecond). The median rather than the mean, because
/// a shared machine adds occasional slow outliers. A case whose amount is 0 or NaN shows "-".
/// </summary>
public sealed class RateColumn(string name, string legend, Func<BenchmarkCase, double> amount) : IColumn
{
    /// <summary>GFLOP/s: floating-point operations of one call / median time.</summary>
    public static RateColumn Gflops(Func<BenchmarkCase, double> flops) =>
        new("GFLOP/s", "Floating-point operations per second, flops / median time, in units of 10^9", flops);

    /// <summary>GB/s: the bytes one call must read and write at least / median time.</summary>
    public static RateColumn GigabytesPerSecond(Func<BenchmarkCase, double> bytes) =>
        new("GB/s", "Compulsory memory traffic (bytes read + written once) per second / median time, in units of 10^9", bytes);

    public string Id => nameof(RateColumn) + name;
    public string ColumnName => name;
    public string Legend => legend;
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
        double total = amount(benchmarkCase);
        return medianNs is > 0 && total > 0 ? (total / medianNs.Value).ToString("F1") : "-";
    }
}
