using System.Globalization;
using ScottPlot;

namespace Forge.Experiments.Plotting;

public static partial class Figures
{
    /// <summary>
    /// A grid of values in [0, 1] (rows: layer counts, row 0 at the top; columns: depths) in the sequential
    /// colormap, each cell labelled with its value, and a black staircase around the cells a bound allows:
    /// <paramref name="allowed"/>(row, column) is true where the bound permits success. NaN cells (not run)
    /// are grey.
    /// </summary>
    public static void BoundGrid(string path, double[,] values, Func<int, int, bool> allowed, string title, string xLabel, string yLabel,
        IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string colorbarLabel)
    {
        var plot = FigureStyle.NewPlot(title, xLabel, yLabel);
        var heatmap = HeatMapDrawing.Add(plot, values, HeatMapDrawing.Sequential(), new ScottPlot.Range(0, 1), rowLabels, columnLabels);
        HeatMapDrawing.AddColorBar(plot, heatmap, colorbarLabel);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                double y = rows - 1 - r;
                string text = double.IsFinite(values[r, c]) ? values[r, c].ToString("F2", CultureInfo.InvariantCulture) : "–";
                var label = plot.Add.Text(text, c, y);
                label.LabelFontSize = FigureStyle.TickLabelSize;
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontColor = values[r, c] > 0.6 ? Colors.White : Colors.Black;
                if (FigureStyle.FontName is { } font) label.LabelFontName = font;
                // The bound: a thick edge between an allowed cell and a forbidden neighbour.
                if (!allowed(r, c)) continue;
                if (c + 1 < columns && !allowed(r, c + 1)) Edge(plot, c + 0.5, y - 0.5, c + 0.5, y + 0.5);
                if (r + 1 < rows && !allowed(r + 1, c)) Edge(plot, c - 0.5, y - 0.5, c + 0.5, y - 0.5);
                if (r > 0 && !allowed(r - 1, c)) Edge(plot, c - 0.5, y + 0.5, c + 0.5, y + 0.5);
            }
        FigureStyle.Save(plot, path);
    }

    static void Edge(Plot plot, double x1, double y1, double x2, double y2)
    {
        var line = plot.Add.Line(x1, y1, x2, y2);
        line.LineWidth = 4;
        line.LineColor = Colors.Black;
    }
}
