using System.Globalization;
using System.Text;

namespace Forge.Experiments.Reports;

/// <summary>
/// Builds report.md: headings, paragraphs, lists, tables, figures (linked relative to the run
/// folder) and the "claims and verdicts" table. Methods return the builder so calls chain;
/// <see cref="ToString"/> gives the markdown.
/// </summary>
public sealed class ReportBuilder
{
    readonly StringBuilder _markdown = new();
    readonly string? _runFolder;

    /// <param name="runFolder">The run folder; figure paths are written relative to it (null: as given).</param>
    public ReportBuilder(string? runFolder = null) => _runFolder = runFolder is null ? null : Path.GetFullPath(runFolder);

    /// <summary>A heading; <paramref name="level"/> 1 is the report title.</summary>
    public ReportBuilder Heading(string text, int level = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 6);
        return Block(new string('#', level) + " " + OneLine(text));
    }

    /// <summary>A paragraph of text (markdown allowed).</summary>
    public ReportBuilder Paragraph(string text) => Block(text.Trim());

    /// <summary>A bulleted list.</summary>
    public ReportBuilder Bullets(IEnumerable<string> items) => Block(string.Join('\n', items.Select(i => "- " + OneLine(i))));

    /// <summary>A fenced code block (e.g. the command that was run).</summary>
    public ReportBuilder Code(string text, string language = "") => Block($"```{language}\n{text.TrimEnd()}\n```");

    /// <summary>
    /// A table: a header row and data rows of cells (text, or numbers formatted invariantly). Pipes
    /// and line breaks in cells are escaped so the table stays intact.
    /// </summary>
    public ReportBuilder Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object?>> rows)
    {
        if (header.Count == 0) throw new ArgumentException("ReportBuilder.Table: no columns.", nameof(header));
        var table = new StringBuilder();
        table.Append("| ").AppendJoin(" | ", header.Select(Cell)).Append(" |\n");
        table.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", header.Count))).Append('\n');
        int rowNumber = 0;
        foreach (var row in rows)
        {
            if (row.Count != header.Count)
                throw new ArgumentException($"ReportBuilder.Table: row {rowNumber} has {row.Count} cells for {header.Count} columns.", nameof(rows));
            table.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
            rowNumber++;
        }
        return Block(table.ToString().TrimEnd('\n'));
    }

    /// <summary>
    /// A figure: an image link with a caption line under it. <paramref name="path"/> may be absolute
    /// or relative to the run folder; it is written relative to the run folder with '/' separators.
    /// </summary>
    public ReportBuilder Figure(string path, string caption)
    {
        string link = LinkPath(path);
        return Block($"![{EscapeAlt(caption)}]({link.Replace(" ", "%20")})\n\n*{OneLine(caption)}*");
    }

    /// <summary>The "claims and verdicts" table: claim | verdict | evidence.</summary>
    public ReportBuilder Claims(IEnumerable<ClaimVerdict> claims) =>
        Table(["claim", "verdict", "evidence"],
            claims.Select(c => (IReadOnlyList<object?>)[c.Claim, "**" + ClaimVerdict.Text(c.Verdict) + "**", c.Evidence]));

    /// <summary>The markdown so far, ending with one newline.</summary>
    public override string ToString() => _markdown.ToString().TrimEnd('\n') + "\n";

    ReportBuilder Block(string text)
    {
        if (_markdown.Length > 0) _markdown.Append('\n');
        _markdown.Append(text).Append('\n');
        return this;
    }

    string LinkPath(string path)
    {
        if (_runFolder is null || !Path.IsPathRooted(path)) return path.Replace('\\', '/');
        return Path.GetRelativePath(_runFolder, path).Replace('\\', '/');
    }

    static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => OneLine(value.ToString() ?? "").Replace("|", "\\|"),
    };

    static string OneLine(string text) => text.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ').Trim();

    static string EscapeAlt(string text) => OneLine(text).Replace("[", "\\[").Replace("]", "\\]");
}
