using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// The sorting sweep: seeds × the groups of <see cref="SweepGroup.All"/> (weight decay, δ̄ via max_value,
/// list length and controlled gaps, heads, LayerNorm), aggregated by <see cref="SweepReport"/>.
/// </summary>
public sealed class SortingSweep : ISweepDesign
{
    public string GridDescription => "weight decay, δ̄ via max_value / list length / controlled gaps, heads, LayerNorm";

    public IReadOnlyList<ISweepGroup> Groups => SweepGroup.All;

    public IReadOnlyList<string> VariedOptions { get; } = ["--weight-decay", "--max-value", "--list-length", "--gap-mean", "--heads", "--no-layernorm"];

    public string WriteReport(IReadOnlyList<string> paths, string outDir, TextWriter output)
    {
        var (finished, unfinished) = FinishedRun.FindAll(paths);
        output.WriteLine($"{finished.Count} finished sorting runs in {finished.Select(r => r.Setting).Distinct().Count()} settings" +
                         (unfinished.Count > 0 ? $"; {unfinished.Count} unfinished left out" : ""));
        return SweepReport.Write(outDir, finished, unfinished, paths);
    }
}
