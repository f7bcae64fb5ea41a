using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Forge.Experiments.Plotting;

/// <summary>
/// PNG figures for reports. Inputs are plain arrays so figures do not depend on model code; each
/// method writes one PNG (default 800×600) atomically, creating the folder if needed.
/// </summary>
public static partial class Figures
{
    /// <summary>
    /// Line plot of one or more series (e.g. train and validation loss against step), with a legend
    /// when there is more than one series or a label is given.
    /// </summary>
    /// <param name="logX">Logarithmic step axis (points with x ≤ 0 are left out).</param>
    /// <param name="logY">Logarithmic value axis (points with y ≤ 0 are left out).</param>
    public static void Lines(string path, IReadOnlyList<Series> series, string title, string xLabel, string yLabel,
        bool logX = false, bool logY = false, int width = FigureStyle.Width, int height = FigureStyle.Height)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = FigureStyle.NewPlot(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < series.Count; s++)
        {
            var (xs, ys) = Plottable(series[s], logX, logY);
            var line = plot.Add.ScatterLine(xs, ys, palette.GetColor(s));
            line.LineWidth = 2;
            line.LegendText = series[s].Label;
        }
        if (logX) plot.Axes.Bottom.TickGenerator = LogTicks();
        if (logY) plot.Axes.Left.TickGenerator = LogTicks();
        if (series.Any(s => !string.IsNullOrEmpty(s.Label))) plot.ShowLegend(Alignment.UpperRight);
        FigureStyle.Save(plot, path, width, height);
    }

    /// <summary>The points of a series that can be drawn (finite, and positive on log axes), log10-transformed where asked.</summary>
    static (double[] X, double[] Y) Plottable(Series series, bool logX, bool logY)
    {
        if (series.X.Length != series.Y.Length)
            throw new ArgumentException($"Figures.Lines: series '{series.Label}' has {series.X.Length} x values and {series.Y.Length} y values.");
        var xs = new List<double>(series.X.Length);
        var ys = new List<double>(series.Y.Length);
        for (int i = 0; i < series.X.Length; i++)
        {
            double x = series.X[i], y = series.Y[i];
            if (!double.IsFinite(x) || !double.IsFinite(y)) continue;
            if ((logX && x <= 0) || (logY && y <= 0)) continue;
            xs.Add(logX ? Math.Log10(x) : x);
            ys.Add(logY ? Math.Log10(y) : y);
        }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>
    /// ScottPlot 5 has no log axis: data are plotted as log10 values and this generator puts major
    /// ticks at integer powers of ten labelled with the real value, minor ticks at 2…9 × 10^k.
    /// </summary>
    static NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = PowerOfTenLabel,
    };

    static string PowerOfTenLabel(double exponent)
    {
        double value = Math.Pow(10, exponent);
        return exponent is >= -4 and <= 6
            ? value.ToString("G6", CultureInfo.InvariantCulture)
            : "1e" + exponent.ToString("F0", CultureInfo.InvariantCulture);
    }
}
