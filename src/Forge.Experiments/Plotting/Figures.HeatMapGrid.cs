using ScottPlot;
using SkiaSharp;

namespace Forge.Experiments.Plotting;

/// <summary>How a heat-map grid colours values.</summary>
public enum HeatMapScale
{
    /// <summary>Blue–white–red centred at 0 (circuits, weight matrices).</summary>
    Diverging,
    /// <summary>White → blue over [0, 1] (attention patterns).</summary>
    Probability,
}

public static partial class Figures
{
    const int GridTitleHeight = 44;

    /// <summary>
    /// Several heat maps in one PNG, left to right then top to bottom: per-head panels, or one
    /// circuit at several checkpoints. With <paramref name="sharedScale"/> all panels use one colour
    /// range (±max|value| over all panels), so panels are comparable by eye.
    /// </summary>
    /// <param name="columns">Panels per row (0: up to 4).</param>
    /// <param name="panelWidth">Pixels per panel; the PNG is columns×panelWidth wide.</param>
    public static void HeatMapGrid(string path, IReadOnlyList<HeatMapPanel> panels, string title, string xLabel, string yLabel,
        HeatMapScale scale = HeatMapScale.Diverging, bool sharedScale = true, int columns = 0,
        int panelWidth = 420, int panelHeight = 380)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("Figures.HeatMapGrid: no panels.", nameof(panels));
        if (columns <= 0) columns = Math.Min(panels.Count, 4);
        int rows = (panels.Count + columns - 1) / columns;
        int width = columns * panelWidth, height = rows * panelHeight + GridTitleHeight;

        double sharedLimit = 0;
        foreach (var panel in panels) sharedLimit = Math.Max(sharedLimit, HeatMapDrawing.MaxAbs(panel.Values));

        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        DrawTitle(canvas, title, width);
        for (int i = 0; i < panels.Count; i++)
        {
            var panel = panels[i];
            var range = scale == HeatMapScale.Probability
                ? new ScottPlot.Range(0, 1)
                : sharedScale ? new ScottPlot.Range(-sharedLimit, sharedLimit) : Symmetric(panel.Values);
            var colormap = scale == HeatMapScale.Probability ? HeatMapDrawing.Sequential() : HeatMapDrawing.Diverging();
            var plot = FigureStyle.NewPlot(panel.Title, xLabel, yLabel);
            plot.Axes.Title.Label.FontSize = FigureStyle.AxisLabelSize;
            var heatmap = HeatMapDrawing.Add(plot, panel.Values, colormap, range, panel.RowLabels, panel.ColumnLabels,
                maxLabels: Math.Max(4, panelWidth / 36));
            plot.Add.ColorBar(heatmap);
            // A plot clears the whole canvas it renders on, so each panel is rendered to its own
            // image and then drawn into its cell of the grid.
            using var panelImage = SKBitmap.Decode(plot.GetImageBytes(panelWidth, panelHeight, ImageFormat.Png));
            canvas.DrawBitmap(panelImage, i % columns * panelWidth, GridTitleHeight + i / columns * panelHeight);
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        Forge.Models.Checkpoints.AtomicFile.WriteAllBytes(path, png.ToArray());
    }

    static ScottPlot.Range Symmetric(double[,] values)
    {
        double limit = HeatMapDrawing.MaxAbs(values);
        return new ScottPlot.Range(-limit, limit);
    }

    static void DrawTitle(SKCanvas canvas, string title, int width)
    {
        using var typeface = FigureStyle.FontName is { } name ? SKTypeface.FromFamilyName(name, SKFontStyle.Bold) : SKTypeface.Default;
        using var font = new SKFont(typeface, FigureStyle.TitleSize);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, width / 2f, GridTitleHeight - 14, SKTextAlign.Center, font, paint);
    }
}
