using System.Globalization;
using System.Text;

namespace Forge.Experiments.Runs;

/// <summary>
/// Appends rows to metrics.csv: <c>step,lr,train_loss</c> then the experiment's columns. Each row is
/// flushed as it is written, so a killed run keeps every row it logged. A NaN value is written as an
/// empty cell (not measured at that step, e.g. validation only every N steps). Appending allocates
/// nothing. Open it with <see cref="RunFolder.OpenMetrics"/>.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    /// <summary>The columns every metrics.csv starts with.</summary>
    public static IReadOnlyList<string> StandardColumns { get; } = ["step", "lr", "train_loss"];

    readonly StreamWriter _writer;
    readonly char[] _number = new char[32];

    /// <summary>All columns, standard ones first.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The number of experiment-specific columns (values passed to <see cref="Append(long, double, double, ReadOnlySpan{double})"/>).</summary>
    public int ExtraColumnCount => Columns.Count - StandardColumns.Count;

    internal MetricsLog(string path, IReadOnlyList<string> columns)
    {
        Columns = columns;
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        if (stream.Length == 0)
        {
            _writer.WriteLine(HeaderLine(columns));
            _writer.Flush();
        }
    }

    /// <summary>The header line for these columns.</summary>
    public static string HeaderLine(IReadOnlyList<string> columns) => string.Join(',', columns);

    /// <summary>
    /// The full column list for <paramref name="extraColumns"/>; names must be unique, non-empty and
    /// free of commas, quotes and line breaks.
    /// </summary>
    public static IReadOnlyList<string> ColumnsFor(IReadOnlyList<string> extraColumns)
    {
        var columns = new List<string>(StandardColumns);
        foreach (var name in extraColumns)
        {
            if (string.IsNullOrWhiteSpace(name) || name.AsSpan().IndexOfAny(",\"\r\n") >= 0)
                throw new ArgumentException($"MetricsLog: column name '{name}' must be non-empty without commas, quotes or line breaks.", nameof(extraColumns));
            if (columns.Contains(name))
                throw new ArgumentException($"MetricsLog: column '{name}' appears twice.", nameof(extraColumns));
            columns.Add(name);
        }
        return columns;
    }

    /// <summary>Appends one row; <paramref name="extras"/> are in <see cref="Columns"/> order after the standard ones.</summary>
    public void Append(long step, double lr, double trainLoss, params ReadOnlySpan<double> extras)
    {
        if (extras.Length != ExtraColumnCount)
            throw new ArgumentException($"MetricsLog.Append: {extras.Length} extra values for {ExtraColumnCount} extra columns.", nameof(extras));
        step.TryFormat(_number, out int written, default, CultureInfo.InvariantCulture);
        _writer.Write(_number.AsSpan(0, written));
        WriteValue(lr);
        WriteValue(trainLoss);
        foreach (double value in extras) WriteValue(value);
        _writer.Write('\n');
        _writer.Flush();
    }

    /// <summary>Appends one row from named extra values; a column without a value gets an empty cell.</summary>
    public void Append(long step, double lr, double trainLoss, IReadOnlyDictionary<string, double> extras)
    {
        foreach (var name in extras.Keys)
            if (!Columns.Skip(StandardColumns.Count).Contains(name))
                throw new ArgumentException($"MetricsLog.Append: '{name}' is not a column of this log.", nameof(extras));
        var values = new double[ExtraColumnCount];
        for (int i = 0; i < values.Length; i++)
            values[i] = extras.TryGetValue(Columns[StandardColumns.Count + i], out double v) ? v : double.NaN;
        Append(step, lr, trainLoss, values);
    }

    void WriteValue(double value)
    {
        _writer.Write(',');
        if (double.IsNaN(value)) return;
        // "R": the shortest text that reads back as the same double.
        value.TryFormat(_number, out int written, "R", CultureInfo.InvariantCulture);
        _writer.Write(_number.AsSpan(0, written));
    }

    public void Dispose() => _writer.Dispose();
}
