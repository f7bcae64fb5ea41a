using System.Globalization;
using System.Numerics;
using System.Text;

namespace Forge.Experiments.Explain;

/// <summary>A [rows, cols] matrix with a label above it, printed to <paramref name="Decimals"/> places; a vector is one row.</summary>
public sealed record Block(string Label, double[] Values, int Rows, int Cols, int Decimals = 4)
{
    public static Block Vector(string label, double[] values, int decimals = 4) => new(label, values, 1, values.Length, decimals);

    public static Block Vector<T>(string label, T[] values, int decimals = 4) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector(label, Numbers.ToDouble<T>(values), decimals);

    public static Block Matrix<T>(string label, T[] values, int rows, int cols, int decimals = 4) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(label, Numbers.ToDouble<T>(values), rows, cols, decimals);
}

/// <summary>The lines of one printed section: a title, then text and side-by-side matrices.</summary>
public sealed class Section
{
    const string Gap = "    ";
    readonly List<string> _lines = [];

    public Section(string title) => _lines.Add(title);

    public Section Line(string text)
    {
        if (text.Trim().Length == 0) throw new ArgumentException("a section holds no blank lines (they separate sections)", nameof(text));
        _lines.Add(text.TrimEnd());
        return this;
    }

    /// <summary>Matrices side by side, each under its label, numbers right-aligned in columns.</summary>
    public Section Blocks(params Block[] blocks)
    {
        var rendered = blocks.Select(Render).ToList();
        int height = rendered.Max(lines => lines.Count);
        for (int row = 0; row < height; row++)
        {
            var line = new StringBuilder("  ");
            for (int b = 0; b < rendered.Count; b++)
            {
                string cell = row < rendered[b].Count ? rendered[b][row] : "";
                line.Append(cell);
                if (b < rendered.Count - 1)
                    line.Append(' ', rendered[b].Max(Width) - Width(cell)).Append(Gap);
            }
            Line(line.ToString());
        }
        return this;
    }

    static List<string> Render(Block block)
    {
        var cells = block.Values.Select(value => Numbers.Format(value, block.Decimals)).ToArray();
        int width = cells.Length == 0 ? 0 : cells.Max(c => c.Length);
        var lines = new List<string> { block.Label };
        for (int r = 0; r < block.Rows; r++)
            lines.Add(string.Join("  ", Enumerable.Range(0, block.Cols).Select(c => cells[r * block.Cols + c].PadLeft(width))));
        return lines;
    }

    /// <summary>Characters as a terminal shows them: the hat of x̂ is a combining mark and takes no column.</summary>
    static int Width(string text) => text.Count(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark);

    public override string ToString() => string.Join("\n", _lines);
}
