using ScottPlot;
using SkiaSharp;

namespace Forge.Experiments.Plotting;

/// <summary>
/// The look shared by every figure: size, a sans-serif font that exists on this machine, readable
/// font sizes. Figures are written atomically (a half-written PNG never appears).
/// </summary>
public static class FigureStyle
{
    /// <summary>Default figure size in pixels.</summary>
    public const int Width = 800, Height = 600;

    public const float TitleSize = 20, AxisLabelSize = 16, TickLabelSize = 13, LegendSize = 13;

    /// <summary>Preferred font families, first installed one wins.</summary>
    static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

    static readonly Lazy<string?> s_font = new(ChooseFont);

    /// <summary>
    /// The font family used for all text, or null when the machine has none of the preferred ones
    /// (ScottPlot then falls back to whatever Skia finds; without any installed font, text is blank:
    /// install e.g. Debian's fonts-dejavu-core).
    /// </summary>
    public static string? FontName => s_font.Value;

    static string? ChooseFont()
    {
        var installed = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var name in PreferredFonts)
            if (installed.Contains(name)) return name;
        return installed.Count > 0 ? installed.First() : null;
    }

    /// <summary>A plot with Forge's font and sizes, a title and axis labels.</summary>
    public static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        if (FontName is { } font) plot.Font.Set(font);
        plot.Title(title, TitleSize);
        plot.XLabel(xLabel, AxisLabelSize);
        plot.YLabel(yLabel, AxisLabelSize);
        plot.Axes.Bottom.TickLabelStyle.FontSize = TickLabelSize;
        plot.Axes.Left.TickLabelStyle.FontSize = TickLabelSize;
        plot.Legend.FontSize = LegendSize;
        if (FontName is { } legendFont) plot.Legend.FontName = legendFont;
        return plot;
    }

    /// <summary>Renders <paramref name="plot"/> to a PNG at <paramref name="path"/>, atomically.</summary>
    public static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        Forge.Models.Checkpoints.AtomicFile.WriteAllBytes(path, png);
    }

    /// <summary>Renders a multi-panel figure to a PNG at <paramref name="path"/>, atomically.</summary>
    public static void Save(Multiplot multiplot, string path, int width, int height)
    {
        using var image = multiplot.Render(width, height);
        Forge.Models.Checkpoints.AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png));
    }
}
