namespace Forge.Experiments.Plotting;

/// <summary>One named curve for <see cref="Figures.Lines"/>: y against x (usually training step).</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">x values (steps); same length as <paramref name="Y"/>.</param>
/// <param name="Y">y values; NaN points are left out.</param>
public sealed record Series(string Label, double[] X, double[] Y)
{
    /// <summary>A series over steps 0, 1, 2, … (or <paramref name="firstStep"/>, … with <paramref name="stride"/>).</summary>
    public static Series OverIndex(string label, double[] y, double firstStep = 0, double stride = 1)
    {
        var x = new double[y.Length];
        for (int i = 0; i < x.Length; i++) x[i] = firstStep + i * stride;
        return new Series(label, x, y);
    }
}

/// <summary>One panel of <see cref="Figures.HeatMapGrid"/>: a titled matrix with optional row/column labels.</summary>
/// <param name="Title">Panel title (e.g. "head 0", "step 1200").</param>
/// <param name="Values">The matrix, (rows, columns); row 0 is drawn at the top.</param>
public sealed record HeatMapPanel(string Title, double[,] Values,
    IReadOnlyList<string>? RowLabels = null, IReadOnlyList<string>? ColumnLabels = null);

/// <summary>One group of bars for <see cref="Figures.Bars"/>: a value per category.</summary>
public sealed record BarSeries(string Label, double[] Values);
