using ScottPlot;

namespace Forge.Experiments.Plotting;

public static partial class Figures
{
    /// <summary>
    /// Scatter plots side by side, one panel per predictor (e.g. held-out loss against the coupling scalar,
    /// log parameters, depth and width), each with its least-squares line and R² in the panel title, so the
    /// predictors can be compared at a glance. Non-finite points are left out.
    /// </summary>
    public static void ScatterPanels(string path, IReadOnlyList<Series> panels, string yLabel, int panelWidth = 420, int panelHeight = 380)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("Figures.ScatterPanels: no panels.", nameof(panels));
        var multiplot = new Multiplot();
        multiplot.RemovePlot(multiplot.GetPlot(0));
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        foreach (var panel in panels)
        {
            var (xs, ys) = Plottable(panel, logX: false, logY: false);
            var fit = Reports.LinearFit.Of(xs, ys);
            var plot = FigureStyle.NewPlot(double.IsFinite(fit.RSquared) ? $"R² = {fit.RSquared:F2}" : "R² –", panel.Label, yLabel);
            var points = plot.Add.ScatterPoints(xs, ys);
            points.MarkerSize = 7;
            if (double.IsFinite(fit.Slope) && xs.Length > 1)
            {
                double lo = xs.Min(), hi = xs.Max();
                var line = plot.Add.Line(lo, fit.Intercept + fit.Slope * lo, hi, fit.Intercept + fit.Slope * hi);
                line.LineWidth = 2;
                line.LineColor = Colors.Gray;
            }
            multiplot.AddPlot(plot);
        }
        FigureStyle.Save(multiplot, path, panels.Count * panelWidth, panelHeight);
    }
}
