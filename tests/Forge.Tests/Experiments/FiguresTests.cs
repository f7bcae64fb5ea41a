using Forge.Experiments.Plotting;

namespace Forge.Tests.Experiments;

/// <summary>
/// Every figure helper writes a real PNG. Set FORGE_FIGURE_DIR to keep the files and look at them.
/// </summary>
public class FiguresTests
{
    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    TempFolder _temp = null!;
    string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempFolder();
        _folder = Environment.GetEnvironmentVariable("FORGE_FIGURE_DIR") is { Length: > 0 } keep ? keep : _temp.Path;
    }

    [TearDown]
    public void TearDown() => _temp.Dispose();

    static void AssertPng(string path, int width, int height)
    {
        Assert.That(File.Exists(path), Is.True, path);
        var bytes = File.ReadAllBytes(path);
        Assert.That(bytes.Length, Is.GreaterThan(5_000), "a figure with axes and text is several kB");
        Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo(PngSignature));
        // IHDR: width and height are big-endian at bytes 16..23.
        int w = bytes[16] << 24 | bytes[17] << 16 | bytes[18] << 8 | bytes[19];
        int h = bytes[20] << 24 | bytes[21] << 16 | bytes[22] << 8 | bytes[23];
        Assert.That((w, h), Is.EqualTo((width, height)));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"), Is.Empty, "no temporary file left");
    }

    static double[,] Circuit(int n)
    {
        // A copying head: positive diagonal, mildly negative elsewhere, one NaN cell.
        var m = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[i, j] = i == j ? 3 + 0.05 * i : -0.5 * Math.Exp(-Math.Abs(i - j) / 4.0);
        m[0, n - 1] = -4;   // top-right corner: the most negative cell, to check orientation by eye
        return m;
    }

    [Test]
    public void Lines_WritesPng_LinearAndLogAxes()
    {
        var steps = Enumerable.Range(0, 200).Select(i => (double)(i * 40)).ToArray();
        var train = steps.Select(s => 4 * Math.Exp(-s / 1500) + 0.04).ToArray();
        var val = steps.Select(s => 4 * Math.Exp(-s / 1400) + 0.05).ToArray();
        var series = new[] { new Series("train", steps, train), new Series("validation", steps, val) };
        string linear = Path.Combine(_folder, "lines.png"), log = Path.Combine(_folder, "lines-log.png");
        Figures.Lines(linear, series, "Loss", "step", "cross-entropy (nats)");
        Figures.Lines(log, series, "Loss (log step)", "step", "cross-entropy (nats)", logX: true, logY: true);
        AssertPng(linear, 800, 600);
        AssertPng(log, 800, 600);
    }

    [Test]
    public void HeatMap_WritesPng_WithTokenLabels()
    {
        int n = 52;
        var labels = Enumerable.Range(0, n).Select(i => i == n - 1 ? "SEP" : i.ToString()).ToArray();
        string path = Path.Combine(_folder, "heatmap.png");
        Figures.HeatMap(path, Circuit(n), "Full OV circuit, head 0", "output token", "source token",
            rowLabels: labels, columnLabels: labels, colorbarLabel: "logit");
        AssertPng(path, 800, 600);
    }

    [Test]
    public void HeatMapGrid_WritesPng_PerHeadPanels()
    {
        var panels = new[]
        {
            new HeatMapPanel("head 0", Circuit(20)),
            new HeatMapPanel("head 1", Scale(Circuit(20), -0.5)),
            new HeatMapPanel("head 2", Scale(Circuit(20), 0.25)),
        };
        string path = Path.Combine(_folder, "grid.png");
        Figures.HeatMapGrid(path, panels, "OV circuits per head", "output token", "source token", columns: 3);
        AssertPng(path, 3 * 420, 380 + 44);
    }

    [Test]
    public void AttentionPattern_WritesPng()
    {
        int t = 21;
        var pattern = new double[t, t];
        for (int q = 0; q < t; q++)
            for (int k = 0; k <= q; k++) pattern[q, k] = 1.0 / (q + 1);
        var tokens = Enumerable.Range(0, t).Select(i => i == 10 ? "SEP" : (i * 3 % 50).ToString()).ToArray();
        string path = Path.Combine(_folder, "attention.png");
        Figures.AttentionPattern(path, pattern, "Head 0 attention", tokens, tokens);
        AssertPng(path, 800, 600);
    }

    [Test]
    public void Reliability_WritesPng_AndBinsPredictions()
    {
        var rng = new Random(3);
        int n = 2000;
        var confidence = new double[n];
        var correct = new bool[n];
        for (int i = 0; i < n; i++) { confidence[i] = 0.5 + 0.5 * rng.NextDouble(); correct[i] = rng.NextDouble() < confidence[i] * 0.9; }
        var full = ReliabilityCurve.FromPredictions("full model", confidence, correct);
        var ablated = ReliabilityCurve.FromPredictions("head 1 ablated", confidence.Select(c => c * 0.9).ToArray(), correct);
        string path = Path.Combine(_folder, "reliability.png");
        Figures.Reliability(path, [full, ablated], "Calibration");
        AssertPng(path, 800, 600);
        Assert.That(full.Counts.Sum(), Is.EqualTo(n));
        Assert.That(full.Confidence.Length, Is.EqualTo(5), "confidences in [0.5, 1) fill bins 5..9");
    }

    [Test]
    public void ReliabilityCurve_ComputesBinMeansAndEce()
    {
        // Two bins used: [0.2, 0.3) with conf 0.25 twice (1 of 2 right), and 1.0 (last bin, right).
        var curve = ReliabilityCurve.FromPredictions("x", [0.25, 0.25, 1.0], [true, false, true], bins: 10);
        Assert.That(curve.Confidence, Is.EqualTo(new[] { 0.25, 1.0 }));
        Assert.That(curve.Accuracy, Is.EqualTo(new[] { 0.5, 1.0 }));
        Assert.That(curve.Counts, Is.EqualTo(new long[] { 2, 1 }));
        Assert.That(curve.ExpectedCalibrationError, Is.EqualTo(2.0 / 3 * 0.25).Within(1e-12));
    }

    [Test]
    public void Bars_WritesPng_SingleAndGrouped()
    {
        string single = Path.Combine(_folder, "bars.png"), grouped = Path.Combine(_folder, "bars-grouped.png");
        Figures.Bars(single, ["head 0", "head 1"], [0.92, 4.96], "Mean-ablation Δloss", "Δ loss (nats)");
        Figures.Bars(grouped, ["head 0", "head 1", "head 2"],
            [new BarSeries("zero-ablation", [1.3, 5.2, -0.1]), new BarSeries("mean-ablation", [0.92, 4.96, 0.02])],
            "Ablation Δloss per head", "Δ loss (nats)");
        AssertPng(single, 800, 600);
        AssertPng(grouped, 800, 600);
    }

    [Test]
    public void FigureStyle_FindsAFont()
    {
        Assert.That(FigureStyle.FontName, Is.Not.Null, "no font installed: figure text would be blank (install fonts-dejavu-core)");
    }

    [Test]
    public void HeatMap_BadLabels_Throws()
    {
        Assert.Throws<ArgumentException>(() => Figures.HeatMap(Path.Combine(_folder, "bad.png"), new double[3, 3], "t", "x", "y", rowLabels: ["a"]));
    }

    static double[,] Scale(double[,] m, double factor)
    {
        var r = (double[,])m.Clone();
        for (int i = 0; i < r.GetLength(0); i++)
            for (int j = 0; j < r.GetLength(1); j++) r[i, j] *= factor;
        return r;
    }
}
