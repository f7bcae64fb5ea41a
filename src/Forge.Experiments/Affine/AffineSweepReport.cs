using Forge.Experiments.Reports;

namespace Forge.Experiments.Affine;

/// <summary>The affine sweep report (aggregation over seeds; filled in as the analyses land).</summary>
public static class AffineSweepReport
{
    public const string FileName = "sweep-report.md";

    public static string Write(IReadOnlyList<string> paths, string outDir, TextWriter output)
    {
        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, FileName);
        Forge.Models.Checkpoints.AtomicFile.WriteAllText(path, new ReportBuilder(outDir).Heading("Affine sweep", 1).Paragraph("Not aggregated yet.").ToString());
        return path;
    }
}
