namespace Forge.Experiments.Plotting;

public static partial class Figures
{
    /// <summary>
    /// Heat map of a matrix (rows, columns) with a diverging colormap centred at 0 (white = 0, red
    /// positive, blue negative, symmetric range ±max|value|) and a colorbar. Row 0 is at the top. For
    /// OV/QK circuits: rows are source/query tokens, columns output/key tokens.
    /// </summary>
    /// <param name="rowLabels">One label per row (default: the row index); thinned when there are many.</param>
    /// <param name="columnLabels">One label per column (default: the column index).</param>
    /// <param name="colorbarLabel">Text beside the colorbar (e.g. "logit").</param>
    public static void HeatMap(string path, double[,] values, string title, string xLabel, string yLabel,
        IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null, string colorbarLabel = "",
        int width = FigureStyle.Width, int height = FigureStyle.Height)
    {
        ArgumentNullException.ThrowIfNull(values);
        var plot = FigureStyle.NewPlot(title, xLabel, yLabel);
        double limit = HeatMapDrawing.MaxAbs(values);
        var heatmap = HeatMapDrawing.Add(plot, values, HeatMapDrawing.Diverging(), new ScottPlot.Range(-limit, limit), rowLabels, columnLabels);
        HeatMapDrawing.AddColorBar(plot, heatmap, colorbarLabel);
        FigureStyle.Save(plot, path, width, height);
    }

    /// <summary>
    /// Attention pattern of one head on one sequence: <paramref name="pattern"/> is (query, key) with
    /// probabilities in [0, 1] (white 0 → dark blue 1) and a colorbar; rows are query positions (top =
    /// first), columns key positions. Pass the tokens as labels to read the pattern against the input.
    /// </summary>
    public static void AttentionPattern(string path, double[,] pattern, string title,
        IReadOnlyList<string>? queryLabels = null, IReadOnlyList<string>? keyLabels = null,
        int width = FigureStyle.Width, int height = FigureStyle.Height)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var plot = FigureStyle.NewPlot(title, "key", "query");
        var heatmap = HeatMapDrawing.Add(plot, pattern, HeatMapDrawing.Sequential(), new ScottPlot.Range(0, 1), queryLabels, keyLabels);
        HeatMapDrawing.AddColorBar(plot, heatmap, "attention");
        FigureStyle.Save(plot, path, width, height);
    }
}
