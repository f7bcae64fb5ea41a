namespace Forge.Experiments.Training;

/// <summary>
/// The optimizer steps after which checkpoints are written: log-spaced (dense early, where models
/// change fastest — what developmental analyses need), linear (every k steps), or both; the final
/// step is always included.
/// </summary>
public static class CheckpointGrid
{
    /// <summary>About <paramref name="count"/> distinct steps from 1 to <paramref name="totalSteps"/>, evenly spaced in log(step).</summary>
    public static SortedSet<int> LogSpaced(int count, int totalSteps)
    {
        var steps = new SortedSet<int> { totalSteps };
        if (count <= 1 || totalSteps <= 1) return steps;
        double logMax = Math.Log(totalSteps);
        for (int i = 0; i < count; i++) steps.Add((int)Math.Round(Math.Exp(logMax * i / (count - 1))));
        return steps;
    }

    /// <summary>Every <paramref name="every"/> steps, and the last.</summary>
    public static SortedSet<int> Linear(int every, int totalSteps)
    {
        var steps = new SortedSet<int> { totalSteps };
        if (every > 0) for (int s = every; s < totalSteps; s += every) steps.Add(s);
        return steps;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="spec"/> when it is not a valid grid.</summary>
    public static void Validate(string spec) => Parse(spec, 1);

    /// <summary>Parses <c>log:N</c>, <c>linear:K</c> or <c>log:N+linear:K</c>.</summary>
    public static SortedSet<int> Parse(string spec, int totalSteps)
    {
        var steps = new SortedSet<int> { totalSteps };
        foreach (var part in spec.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2 || !int.TryParse(pieces[1], out int value) || value < 1)
                throw new ArgumentException($"invalid checkpoint grid '{spec}': expected log:N, linear:K or log:N+linear:K");
            steps.UnionWith(pieces[0] switch
            {
                "log" => LogSpaced(value, totalSteps),
                "linear" => Linear(value, totalSteps),
                _ => throw new ArgumentException($"invalid checkpoint grid '{spec}': unknown kind '{pieces[0]}' (log or linear)"),
            });
        }
        return steps;
    }
}
