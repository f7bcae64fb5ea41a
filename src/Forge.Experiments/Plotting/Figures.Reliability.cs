using System.Globalization;
using ScottPlot;

namespace Forge.Experiments.Plotting;

public static partial class Figures
{
    /// <summary>
    /// Reliability diagram: accuracy against confidence per bin for each curve (legend shows its
    /// expected calibration error), with the dashed diagonal of perfect calibration. Both axes 0–1.
    /// </summary>
    public static void Reliability(string path, IReadOnlyList<ReliabilityCurve> curves, string title,
        int width = FigureStyle.Width, int height = FigureStyle.Height)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var plot = FigureStyle.NewPlot(title, "confidence", "accuracy");
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LineColor = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LineWidth = 1.5f;
        diagonal.LegendText = "perfect calibration";
        var palette = new ScottPlot.Palettes.Category10();
        for (int c = 0; c < curves.Count; c++)
        {
            var curve = curves[c];
            if (curve.Confidence.Length != curve.Accuracy.Length)
                throw new ArgumentException($"Figures.Reliability: curve '{curve.Label}' has {curve.Confidence.Length} confidences and {curve.Accuracy.Length} accuracies.");
            var line = plot.Add.Scatter(curve.Confidence, curve.Accuracy, palette.GetColor(c));
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.LegendText = $"{curve.Label} (ECE {curve.ExpectedCalibrationError.ToString("F3", CultureInfo.InvariantCulture)})";
        }
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(Alignment.UpperLeft);
        FigureStyle.Save(plot, path, width, height);
    }
}
