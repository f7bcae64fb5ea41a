using System.Globalization;

namespace Forge.Experiments.Sorting.Sweep;

/// <summary>
/// One stage of a run's development: the checkpoints between two stage boundaries (where the smoothed
/// LLC changes the sign of its slope), whether the LLC rose or fell across it, and the modes seen.
/// </summary>
/// <param name="Valid">Every LLC estimate in the stage is positive: the model is near a minimum, where SGLD measures the basin (early checkpoints, still descending fast, give negative estimates).</param>
/// <param name="Noise">The larger spread over SGLD chains (standard deviation) of the LLC at the stage's two ends.</param>
/// <param name="Modes">The mode at each checkpoint, with consecutive repeats collapsed.</param>
public sealed record DevelopmentStage(long FirstStep, long LastStep, double LlcStart, double LlcEnd, double Noise, bool Valid, IReadOnlyList<SortingMode> Modes, double ValAccEnd)
{
    /// <summary>The smoothed LLC is lower at the end than at the start.</summary>
    public bool Falls => LlcEnd < LlcStart;

    /// <summary>It falls by more than twice the chains' spread [ours]: a drop the estimator's own noise would rarely make.</summary>
    public bool FallsClearly => LlcStart - LlcEnd > 2 * Noise;
}

/// <summary>
/// The development analysis of one sorting run (its development.csv, written by <c>analyze --development</c>),
/// split into stages with the rule of <see cref="SortingDevelopment.StageBoundaries"/>.
/// </summary>
public sealed record DevelopmentRun(string Folder, SortingSetting Setting, ulong Seed, IReadOnlyList<DevelopmentPoint> Points, IReadOnlyList<DevelopmentStage> Stages)
{
    public const string FileName = "development.csv";

    /// <summary>The final mode.</summary>
    public SortingMode FinalMode => Points[^1].Mode;

    /// <summary>The mode at every checkpoint, consecutive repeats collapsed: "overlapping → splitting".</summary>
    public IReadOnlyList<SortingMode> ModeSequence => Collapse(Points.Select(p => p.Mode));

    /// <summary>A stage with valid LLC estimates across which the LLC falls clearly (more than twice the chains' spread).</summary>
    public DevelopmentStage? FirstValidFallingStage => Stages.FirstOrDefault(s => s.Valid && s.FallsClearly);

    /// <summary>The development of <paramref name="run"/>, or null when it has no development.csv.</summary>
    /// <exception cref="InvalidDataException">The file exists but cannot be read.</exception>
    public static DevelopmentRun? Read(FinishedRun run)
    {
        string path = Path.Combine(run.Folder, FileName);
        if (!File.Exists(path)) return null;
        var points = ReadPoints(path);
        if (points.Count == 0) throw new InvalidDataException($"'{path}' has no checkpoints");
        return new DevelopmentRun(run.Folder, run.Setting, run.Seed, points, StagesOf(points));
    }

    /// <summary>development.csv's rows (step, val_loss, val_acc, train_loss, llc, llc_std, mode, then per head copied_h, copy_score_h).</summary>
    public static IReadOnlyList<DevelopmentPoint> ReadPoints(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        var header = lines[0].Split(',');
        if (header.Length < 7 || header[0] != "step" || header[4] != "llc" || header[6] != "mode")
            throw new InvalidDataException($"'{path}' is not a development.csv (header '{lines[0]}')");
        int heads = (header.Length - 7) / 2;
        var points = new List<DevelopmentPoint>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length) throw new InvalidDataException($"'{path}': row '{line}' has {cells.Length} cells, the header {header.Length}");
            double D(int i) => double.Parse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            points.Add(new DevelopmentPoint(long.Parse(cells[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5),
                Enum.Parse<SortingMode>(cells[6]),
                Enumerable.Range(0, heads).Select(h => (int)D(7 + 2 * h)).ToArray(),
                Enumerable.Range(0, heads).Select(h => D(8 + 2 * h)).ToArray()));
        }
        return points;
    }

    /// <summary>The stages between the boundaries: each spans the checkpoints from one boundary (or the first checkpoint) to the next (or the last).</summary>
    public static IReadOnlyList<DevelopmentStage> StagesOf(IReadOnlyList<DevelopmentPoint> points)
    {
        var boundaries = SortingDevelopment.StageBoundaries(points);
        var smooth = SortingDevelopment.SmoothedLlc(points);
        var cuts = new List<int> { 0 };
        foreach (long step in boundaries) cuts.Add(points.ToList().FindIndex(p => p.Step == step));
        cuts.Add(points.Count - 1);
        var stages = new List<DevelopmentStage>();
        for (int k = 0; k + 1 < cuts.Count; k++)
        {
            int first = cuts[k], last = cuts[k + 1];
            if (last <= first) continue;
            var span = points.Skip(first).Take(last - first + 1).ToList();
            stages.Add(new DevelopmentStage(points[first].Step, points[last].Step, smooth[first], smooth[last],
                Math.Max(points[first].LlcStd, points[last].LlcStd), span.All(p => p.Llc > 0), Collapse(span.Select(p => p.Mode)), points[last].ValAccuracy));
        }
        return stages;
    }

    static IReadOnlyList<SortingMode> Collapse(IEnumerable<SortingMode> modes)
    {
        var sequence = new List<SortingMode>();
        foreach (var mode in modes)
            if (sequence.Count == 0 || sequence[^1] != mode) sequence.Add(mode);
        return sequence;
    }
}
