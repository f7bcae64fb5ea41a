using System.Globalization;
using ScottPlot;

namespace Forge.Experiments.Plotting;

public static partial class Figures
{
    /// <summary>Bar chart of one value per category (e.g. Δloss when each head is ablated).</summary>
    public static void Bars(string path, IReadOnlyList<string> categories, double[] values, string title, string yLabel,
        string xLabel = "", int width = FigureStyle.Width, int height = FigureStyle.Height) =>
        Bars(path, categories, [new BarSeries("", values)], title, yLabel, xLabel, width, height);

    /// <summary>
    /// Grouped bar chart: for each category one bar per series (e.g. Δloss under zero- and
    /// mean-ablation per head), a legend when series are named, a line at 0, values above the bars.
    /// </summary>
    public static void Bars(string path, IReadOnlyList<string> categories, IReadOnlyList<BarSeries> series, string title,
        string yLabel, string xLabel = "", int width = FigureStyle.Width, int height = FigureStyle.Height)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("Figures.Bars: no series.", nameof(series));
        var plot = FigureStyle.NewPlot(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        double groupWidth = 0.8, barWidth = groupWidth / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            if (series[s].Values.Length != categories.Count)
                throw new ArgumentException($"Figures.Bars: series '{series[s].Label}' has {series[s].Values.Length} values for {categories.Count} categories.");
            var bars = new List<Bar>();
            for (int c = 0; c < categories.Count; c++)
            {
                double value = series[s].Values[c];
                bars.Add(new Bar
                {
                    Position = c - groupWidth / 2 + (s + 0.5) * barWidth,
                    Value = value,
                    Size = barWidth * 0.95,
                    FillColor = palette.GetColor(s),
                    LineWidth = 0,
                    Label = double.IsFinite(value) ? value.ToString("G3", CultureInfo.InvariantCulture) : "",
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Label;
            plottable.ValueLabelStyle.FontSize = FigureStyle.TickLabelSize;
        }
        plot.Add.HorizontalLine(0, 1, Colors.Black);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, categories.Count).Select(c => (double)c).ToArray(), categories.ToArray());
        plot.Grid.XAxisStyle.IsVisible = false;
        if (series.Any(s => !string.IsNullOrEmpty(s.Label))) plot.ShowLegend(Alignment.UpperRight);
        FigureStyle.Save(plot, path, width, height);
    }
}
