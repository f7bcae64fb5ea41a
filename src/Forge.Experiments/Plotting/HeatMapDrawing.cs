using ScottPlot;
using ScottPlot.Plottables;

namespace Forge.Experiments.Plotting;

/// <summary>What every heat-map figure shares: colormaps, symmetric ranges, labelled cells.</summary>
static class HeatMapDrawing
{
    /// <summary>
    /// Diverging blue–white–red (the RdBu map of matplotlib/plotly, reversed so positive is red):
    /// white is exactly 0 when the range is symmetric, so the sign of a circuit entry is its hue.
    /// </summary>
    public static IColormap Diverging() => new ScottPlot.Colormaps.CustomInterpolated(
    [
        Color.FromHex("#053061"), Color.FromHex("#2166ac"), Color.FromHex("#4393c3"), Color.FromHex("#92c5de"),
        Color.FromHex("#d1e5f0"), Color.FromHex("#f7f7f7"), Color.FromHex("#fddbc7"), Color.FromHex("#f4a582"),
        Color.FromHex("#d6604d"), Color.FromHex("#b2182b"), Color.FromHex("#67001f"),
    ]);

    /// <summary>Sequential white → dark blue, for probabilities (attention patterns).</summary>
    public static IColormap Sequential() => new ScottPlot.Colormaps.CustomInterpolated(
    [
        Color.FromHex("#ffffff"), Color.FromHex("#c6dbef"), Color.FromHex("#6baed6"), Color.FromHex("#2171b5"), Color.FromHex("#08306b"),
    ]);

    /// <summary>The largest |value| (finite entries only), or 1 when all are zero or NaN, so the range is never empty.</summary>
    public static double MaxAbs(double[,] values)
    {
        double max = 0;
        foreach (double v in values) if (double.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max > 0 ? max : 1;
    }

    /// <summary>
    /// Draws <paramref name="values"/> (rows, columns) with row 0 at the top, cell (r, c) centred on
    /// x = c, y = rows−1−r, and labels the axes with row/column labels (or indices), thinned so at
    /// most ~24 labels appear per axis.
    /// </summary>
    /// <param name="maxLabels">Most tick labels per axis (labels are thinned to fit).</param>
    public static Heatmap Add(Plot plot, double[,] values, IColormap colormap, ScottPlot.Range range,
        IReadOnlyList<string>? rowLabels, IReadOnlyList<string>? columnLabels, int maxLabels = 24)
    {
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || columns == 0) throw new ArgumentException("Figures: a heat map needs at least one row and one column.");
        CheckLabels(rowLabels, rows, "row");
        CheckLabels(columnLabels, columns, "column");
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = colormap;
        heatmap.ManualRange = range;
        heatmap.NaNCellColor = Colors.LightGray;
        plot.HideGrid();
        plot.Axes.Margins(0, 0);
        SetTicks(plot.Axes.Bottom, columns, columnLabels, topToBottom: false, maxLabels);
        SetTicks(plot.Axes.Left, rows, rowLabels, topToBottom: true, maxLabels);
        return heatmap;
    }

    /// <summary>A colorbar on the right; its label goes on the colorbar's axis, outside the tick labels.</summary>
    public static void AddColorBar(Plot plot, Heatmap heatmap, string label)
    {
        var colorbar = plot.Add.ColorBar(heatmap);
        colorbar.Axis.Label.Text = label;
        colorbar.Axis.Label.FontSize = FigureStyle.AxisLabelSize;
        colorbar.Axis.TickLabelStyle.FontSize = FigureStyle.TickLabelSize;
        if (FigureStyle.FontName is { } font) colorbar.Axis.Label.FontName = font;
        // ScottPlot sizes the colorbar panel without its label, which then overlaps the tick labels;
        // reserve room for it.
        if (label.Length > 0) colorbar.MinimumSize = 100;
    }

    static void SetTicks(IAxis axis, int count, IReadOnlyList<string>? labels, bool topToBottom, int maxLabels)
    {
        int stride = Math.Max(1, (int)Math.Ceiling(count / (double)Math.Max(1, maxLabels)));
        var positions = new List<double>();
        var texts = new List<string>();
        for (int i = 0; i < count; i += stride)
        {
            positions.Add(topToBottom ? count - 1 - i : i);
            texts.Add(labels?[i] ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        axis.SetTicks(positions.ToArray(), texts.ToArray());
    }

    static void CheckLabels(IReadOnlyList<string>? labels, int count, string what)
    {
        if (labels is not null && labels.Count != count)
            throw new ArgumentException($"Figures: {labels.Count} {what} labels for {count} {what}s.");
    }
}
