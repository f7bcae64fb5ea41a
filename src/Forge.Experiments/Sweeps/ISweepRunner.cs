namespace Forge.Experiments.Sweeps;

/// <summary>Runs one job of a sweep to its end (tests inject a fake that writes run folders by hand).</summary>
public interface ISweepRunner
{
    /// <summary>Runs <paramref name="job"/>, writing its output to <c>job.Run.LogPath</c>; returns its exit code.</summary>
    /// <remarks>Called from several threads at once when the sweep runs jobs in parallel.</remarks>
    int Run(SweepJob job);
}
