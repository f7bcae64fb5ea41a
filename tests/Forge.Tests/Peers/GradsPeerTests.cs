using System.Globalization;
using System.Text;
using Forge.Experiments.Tools;
using Forge.Models.Checkpoints;
using Forge.Tests.Experiments;

namespace Forge.Tests.Peers;

/// <summary>
/// Forge's <c>grads</c> against an independent PyTorch implementation (bench/peers/grads_reference.py):
/// the loss and every parameter's gradient must agree to float32 precision (and to ~1e-10 in float64).
/// Skipped, never passed, when PyTorch is not installed for /usr/bin/python3.
/// Set FORGE_PEERS_KEEP=DIR to keep each case's checkpoint, batch and both gradient files.
/// </summary>
public class GradsPeerTests
{
    /// <summary>
    /// float32 tolerances, per tensor: max|forge − torch| ≤ atol + rtol·max|torch|. Relative to the
    /// tensor's scale rather than element by element, because the two sides differ only in summation
    /// order and an element's rounding error is eps times the size of the terms summed into it (an
    /// element whose terms cancel to ~0 has a large elementwise relative error and is still right).
    /// Measured (bench/peers/README.md): at most 9e-7 of the scale (about 7 float32 epsilons), so rtol
    /// 1e-5 leaves a ~10x margin while a wrong formula term shows at 1e-3 and more. atol is the floor for
    /// ∂loss/∂b_K, which is exactly 0 (softmax ignores a constant added to a query's scores) and so holds
    /// pure rounding noise: measured ≤ 1.5e-8.
    /// </summary>
    public const double Float32RelativeTolerance = 1e-5, Float32AbsoluteTolerance = 1e-7;

    /// <summary>
    /// float64: measured ≤ 1.3e-15 of the scale and b_K noise ≤ 6e-17. This is the sharp check: formula
    /// differences too small for float32 (GELU's 0.044715 written as 0.0447: 1.5e-5) fail here.
    /// </summary>
    public const double Float64RelativeTolerance = 1e-12, Float64AbsoluteTolerance = 1e-15;

    static IEnumerable<TestCaseData> Cases() => PeerCase.All.Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchPyTorch(PeerCase peerCase)
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        using var temp = new TempFolder();
        string folder = Folder(temp, peerCase.Name);
        string checkpoint = Path.Combine(folder, "model.safetensors"), batch = Path.Combine(folder, "batch.safetensors");
        ModelCheckpoint.Save(checkpoint, peerCase.Model(seed: 7), step: 0, seed: 7);
        SafeTensors.Write(batch, peerCase.Batch(new Rng(8)));

        // Both PyTorch runs start first: they overlap with Forge's own work and with each other.
        string Out(string who, string dtype) => Path.Combine(folder, $"grads-{who}-{dtype}.safetensors");
        var torch32 = PythonPeer.Start("grads_reference.py", checkpoint, batch, Out("torch", "f32"), "--dtype", "f32");
        var torch64 = PythonPeer.Start("grads_reference.py", checkpoint, batch, Out("torch", "f64"), "--dtype", "f64");
        GradsCommand.Run(checkpoint, batch, Out("forge", "f32"), null, doublePrecision: false);
        GradsCommand.Run(checkpoint, batch, Out("forge", "f64"), null, doublePrecision: true);
        PythonPeer.Finish(torch32);
        PythonPeer.Finish(torch64);

        var report = new StringBuilder();
        var failures = new List<string>();
        failures.AddRange(Compare("f32", Out("forge", "f32"), Out("torch", "f32"), SafeTensorsDType.F32, Float32RelativeTolerance, Float32AbsoluteTolerance, report));
        failures.AddRange(Compare("f64", Out("forge", "f64"), Out("torch", "f64"), SafeTensorsDType.F64, Float64RelativeTolerance, Float64AbsoluteTolerance, report));
        TestContext.Out.WriteLine(report.ToString());
        Assert.That(failures, Is.Empty, report.ToString());
    }

    /// <summary>
    /// Every tensor of <paramref name="forgePath"/> against <paramref name="torchPath"/>: same names, shapes
    /// and dtype, and max|forge − torch| ≤ atol + rtol·max|torch| (as bench/peers/compare_grads.py).
    /// Appends a table to <paramref name="report"/>; returns the failures.
    /// </summary>
    static List<string> Compare(string label, string forgePath, string torchPath, SafeTensorsDType dtype, double rtol, double atol, StringBuilder report)
    {
        var forge = SafeTensors.Read(forgePath);
        var torch = SafeTensors.Read(torchPath);
        var failures = new List<string>();
        foreach (var name in forge.Names.Except(torch.Names)) failures.Add($"{label} {name}: only in Forge's file");
        foreach (var name in torch.Names.Except(forge.Names)) failures.Add($"{label} {name}: only in PyTorch's file");
        if (!torch.Contains("loss")) failures.Add($"{label}: no 'loss' in PyTorch's file");

        report.AppendLine(CultureInfo.InvariantCulture, $"{label}, max|Δ| ≤ {atol:G2} + {rtol:G2}·max|torch|:   max|Δ|   max|Δ|/max|torch|   max|torch|");
        foreach (var name in torch.Names.Where(forge.Contains))
        {
            var (a, b) = (forge.GetEntry(name), torch.GetEntry(name));
            if (a.DType != dtype) failures.Add($"{label} {name}: Forge wrote {a.DType}, expected {dtype}");
            if (!a.ShapeSpan.SequenceEqual(b.ShapeSpan)) { failures.Add($"{label} {name}: shapes {a} vs {b}"); continue; }
            var (x, y) = (forge.GetDouble(name).AsSpan().ToArray(), torch.GetDouble(name).AsSpan().ToArray());
            double maxDifference = 0, scale = 0;
            int worst = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double difference = Math.Abs(x[i] - y[i]);
                scale = Math.Max(scale, Math.Abs(y[i]));
                if (difference > maxDifference || double.IsNaN(difference)) (maxDifference, worst) = (difference, i);
                if (double.IsNaN(difference)) break;   // a NaN on either side fails: keep it as the worst
            }
            bool agrees = maxDifference <= atol + rtol * scale;   // false for NaN
            string verdict = agrees ? "" : $"  DIFFERS, worst [{worst}]: forge {x[worst]:G9}, torch {y[worst]:G9}";
            report.AppendLine(CultureInfo.InvariantCulture, $"  {name,-24} {maxDifference,10:E2} {maxDifference / scale,10:E2} {scale,10:E2}{verdict}");
            if (!agrees) failures.Add($"{label} {name}{verdict}");
        }
        return failures;
    }

    static string Folder(TempFolder temp, string caseName)
    {
        string? keep = Environment.GetEnvironmentVariable("FORGE_PEERS_KEEP");
        string folder = string.IsNullOrEmpty(keep) ? temp.Combine(caseName) : Path.Combine(keep, caseName);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
