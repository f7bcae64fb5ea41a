namespace Forge.Experiments.Language;

/// <summary>The family report (coupling against held-out loss): see <see cref="Write"/>.</summary>
public static class LmSweepReport
{
    public const string FileName = "family-report.md";

    public static string Write(IReadOnlyList<string> paths, string outDir, TextWriter output) =>
        throw new NotImplementedException("lm-sweep-report: not written yet");
}
