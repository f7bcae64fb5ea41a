using ScottPlot;
using Forge.Experiments.Plotting;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The sweep report's figures: stacked bars of the mode fractions per setting, and strip plots (one
/// dot per run) of the final LLC coloured by mode and of the validation accuracy. Each mode keeps
/// one colour in every figure.
/// </summary>
public static class SweepFigures
{
    static Color ModeColor(SortingMode mode) => new ScottPlot.Palettes.Category10().GetColor(mode switch
    {
        SortingMode.VocabularySplitting => 0,
        SortingMode.CopySuppression => 1,
        SortingMode.Overlapping => 3,
        _ => 7,
    });

    /// <summary>Stacked bars: for each setting the fraction of its runs in each mode (seed counts in the labels).</summary>
    public static void ModeFractions(string path, IReadOnlyList<SettingSummary> settings, IReadOnlyList<string> labels, string title)
    {
        var plot = FigureStyle.NewPlot(title, "", "fraction of seeds");
        var cumulative = new double[settings.Count];
        foreach (var (mode, label) in SettingSummary.Modes)
        {
            if (settings.All(s => s.Count(mode) == 0)) continue;
            var bars = new List<Bar>();
            for (int i = 0; i < settings.Count; i++)
            {
                double fraction = settings[i].Fraction(mode);
                if (!(fraction > 0)) continue;
                bars.Add(new Bar { Position = i, ValueBase = cumulative[i], Value = cumulative[i] + fraction, Size = 0.7, FillColor = ModeColor(mode), LineWidth = 0 });
                cumulative[i] += fraction;
            }
            plot.Add.Bars(bars).LegendText = label;
        }
        plot.Axes.SetLimitsY(0, 1.05);
        Ticks(plot, labels.Select((l, i) => $"{l}\n({settings[i].Seeds} seeds)").ToArray());
        plot.ShowLegend(Edge.Right);
        FigureStyle.Save(plot, path, Width(settings.Count), FigureStyle.Height);
    }

    /// <summary>One dot per run: its final LLC against its setting, coloured by mode (diverged estimates left out).</summary>
    public static void LlcByMode(string path, IReadOnlyList<SettingSummary> settings)
    {
        var plot = FigureStyle.NewPlot("Final LLC of each run, by mode", "", "LLC (mean over chains)");
        Strip(plot, settings, r => r.Llc ?? double.NaN);
        Ticks(plot, settings.Select(s => s.Setting.Name).ToArray());
        plot.ShowLegend(Edge.Right);
        FigureStyle.Save(plot, path, Width(settings.Count), FigureStyle.Height);
    }

    /// <summary>One dot per run: validation accuracy against setting, coloured by mode, with the 0.998 reference line.</summary>
    public static void Accuracy(string path, IReadOnlyList<SettingSummary> settings)
    {
        var plot = FigureStyle.NewPlot("Validation per-token accuracy of each run", "", "accuracy");
        Strip(plot, settings, r => r.ValAcc);
        var reference = plot.Add.HorizontalLine(SweepClaims.ReferenceAccuracy, 1, Colors.Gray, LinePattern.Dashed);
        reference.LegendText = $"reference {SweepClaims.ReferenceAccuracy}";
        Ticks(plot, settings.Select(s => s.Setting.Name).ToArray());
        plot.ShowLegend(Edge.Right);
        FigureStyle.Save(plot, path, Width(settings.Count), FigureStyle.Height);
    }

    /// <summary>
    /// Dots at x = setting index, modes side by side (offset by mode), runs of one mode spread a
    /// little so equal values stay visible; non-finite values are left out.
    /// </summary>
    static void Strip(Plot plot, IReadOnlyList<SettingSummary> settings, Func<FinishedRun, double> value)
    {
        var modes = SettingSummary.Modes;
        for (int m = 0; m < modes.Count; m++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < settings.Count; i++)
            {
                var runs = settings[i].Runs.Where(r => r.Mode == modes[m].Mode && double.IsFinite(value(r))).ToList();
                for (int k = 0; k < runs.Count; k++)
                {
                    xs.Add(i + (m - 1.5) * 0.18 + (k - (runs.Count - 1) / 2.0) * 0.025);
                    ys.Add(value(runs[k]));
                }
            }
            if (xs.Count == 0) continue;
            plot.Add.Markers(xs.ToArray(), ys.ToArray(), MarkerShape.FilledCircle, 8, ModeColor(modes[m].Mode)).LegendText = modes[m].Label;
        }
    }

    static void Ticks(Plot plot, string[] labels)
    {
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, labels.Length).Select(i => (double)i).ToArray(), labels);
        plot.Axes.SetLimitsX(-0.6, labels.Length - 0.4);
        plot.Grid.XAxisStyle.IsVisible = false;
    }

    /// <summary>Wide enough that every category's label fits unrotated (setting names are ≤ ~12 characters).</summary>
    static int Width(int categories) => Math.Max(FigureStyle.Width, 110 * categories + 250);
}
