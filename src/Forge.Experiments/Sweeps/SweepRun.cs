using System.Globalization;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Sweeps;

/// <summary>Where one run of a sweep stands, read from its folder.</summary>
public enum SweepRunState
{
    /// <summary>No config.json: the run has not started (train it from scratch).</summary>
    New,
    /// <summary>config.json but no summary.json: training was interrupted (resume it).</summary>
    Interrupted,
    /// <summary>summary.json but no analysis.json: trained, the analysis was interrupted (<c>analyze --run</c>).</summary>
    Trained,
    /// <summary>analysis.json: finished (skipped).</summary>
    Finished,
}

/// <summary>One run of a sweep: a setting and a seed, in the folder <c>&lt;root&gt;/&lt;setting&gt;/seed-&lt;seed&gt;</c>.</summary>
/// <param name="Folder">The run folder (absolute).</param>
/// <param name="Experiment">The experiment's command name.</param>
public sealed record SweepRun(string Experiment, ISweepSetting Setting, ulong Seed, string Folder)
{
    /// <summary><c>&lt;setting&gt;/seed-&lt;seed&gt;</c>: the run's name in progress lines.</summary>
    public string Name => $"{Setting.Name}/seed-{Seed.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The run's log, next to its folder: <c>&lt;root&gt;/&lt;setting&gt;/seed-&lt;seed&gt;.log</c>.</summary>
    public string LogPath => Folder + ".log";

    public string AnalysisPath => Path.Combine(Folder, RunFolder.AnalysisFileName);

    /// <summary>Reads the run's state from its folder.</summary>
    public SweepRunState State()
    {
        if (File.Exists(AnalysisPath)) return SweepRunState.Finished;
        if (File.Exists(Path.Combine(Folder, RunFolder.SummaryFileName))) return SweepRunState.Trained;
        if (File.Exists(Path.Combine(Folder, RunFolder.ConfigFileName))) return SweepRunState.Interrupted;
        return SweepRunState.New;
    }

    /// <summary>
    /// The program arguments that bring the run from <paramref name="state"/> to finished, or null when
    /// it is finished. A new run gets the whole recipe (setting + <paramref name="runArgs"/>); an
    /// interrupted one continues the recipe stored in its config.json; a trained one is only analysed
    /// (resuming a trained run would rewrite its summary without validation numbers).
    /// </summary>
    public IReadOnlyList<string>? Arguments(SweepRunState state, IReadOnlyList<string> runArgs, int threads)
    {
        string t = threads.ToString(CultureInfo.InvariantCulture);
        return state switch
        {
            SweepRunState.New => [Experiment, "--out", Folder, "--seed", Seed.ToString(CultureInfo.InvariantCulture), .. Setting.Arguments, .. runArgs, "--threads", t],
            SweepRunState.Interrupted => [Experiment, "--resume", "--out", Folder, "--threads", t],
            SweepRunState.Trained => ["analyze", "--run", Folder, "--threads", t],
            _ => null,
        };
    }
}

/// <summary>One run still to do, with what to do: the program arguments to run (after the program itself).</summary>
public sealed record SweepJob(SweepRun Run, SweepRunState State, IReadOnlyList<string> Arguments)
{
    /// <summary>"train", "resume" or "analyse".</summary>
    public string Action => State switch
    {
        SweepRunState.New => "train",
        SweepRunState.Interrupted => "resume",
        SweepRunState.Trained => "analyse",
        _ => "skip",
    };
}
