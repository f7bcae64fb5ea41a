using System.Globalization;

namespace Forge.Experiments.Runs;

/// <summary>
/// metrics.csv read back: the columns and one row of doubles per logged step (empty cells are NaN).
/// For analyses and figures that work from a finished run, and for truncating on resume.
/// </summary>
public sealed class MetricsTable
{
    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<double[]> Rows { get; }

    MetricsTable(IReadOnlyList<string> columns, IReadOnlyList<double[]> rows) { Columns = columns; Rows = rows; }

    /// <summary>One column's values, row by row.</summary>
    public double[] Column(string name)
    {
        int index = IndexOf(name);
        var values = new double[Rows.Count];
        for (int row = 0; row < values.Length; row++) values[row] = Rows[row][index];
        return values;
    }

    int IndexOf(string name)
    {
        for (int i = 0; i < Columns.Count; i++) if (Columns[i] == name) return i;
        throw new ArgumentException($"MetricsTable: no column '{name}' (columns: {string.Join(", ", Columns)}).", nameof(name));
    }

    /// <summary>
    /// Reads a metrics.csv. A row that does not parse (the half-written last line of a killed run) is
    /// skipped.
    /// </summary>
    public static MetricsTable Read(string path)
    {
        var (header, rows) = ReadLines(path);
        var columns = header.Split(',');
        var parsed = new List<double[]>();
        foreach (var line in rows)
            if (TryParseRow(line, columns.Length, out var values)) parsed.Add(values);
        return new MetricsTable(columns, parsed);
    }

    /// <summary>
    /// Keeps the header and the rows with <c>step ≤ lastKeptStep</c>, dropping later rows and any
    /// half-written line; the file is replaced atomically. Returns the number of rows kept.
    /// </summary>
    internal static int KeepRowsThrough(string path, long lastKeptStep)
    {
        var (header, rows) = ReadLines(path);
        int columnCount = header.Split(',').Length;
        var kept = new List<string> { header };
        foreach (var line in rows)
            if (TryParseRow(line, columnCount, out var values) && values[0] <= lastKeptStep) kept.Add(line);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, string.Join('\n', kept) + "\n");
        return kept.Count - 1;
    }

    /// <summary>The header line of a metrics.csv, or null when the file is empty.</summary>
    internal static string? ReadHeader(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine();
    }

    static (string Header, List<string> Rows) ReadLines(string path)
    {
        string text = File.ReadAllText(path);
        var lines = text.Split('\n');
        if (lines[0].Length == 0) throw new InvalidDataException($"metrics file '{path}' is empty (no header).");
        // Every complete row ends with '\n', so the piece after the last one is either empty or a row
        // the writer was killed in the middle of: its numbers may be cut short, so it is dropped.
        var rows = new List<string>(lines.Length);
        for (int i = 1; i < lines.Length - 1; i++) if (lines[i].Length > 0) rows.Add(lines[i].TrimEnd('\r'));
        return (lines[0].TrimEnd('\r'), rows);
    }

    static bool TryParseRow(string line, int columnCount, out double[] values)
    {
        var cells = line.Split(',');
        values = new double[columnCount];
        if (cells.Length != columnCount) return false;
        for (int i = 0; i < columnCount; i++)
        {
            if (cells[i].Length == 0) { values[i] = double.NaN; continue; }
            if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return false;
        }
        return !double.IsNaN(values[0]);
    }
}
