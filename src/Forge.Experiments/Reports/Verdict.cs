namespace Forge.Experiments.Reports;

/// <summary>What a run says about one claim of the paper.</summary>
public enum Verdict
{
    /// <summary>This run reproduces the claim.</summary>
    Supported,
    /// <summary>Reproduced in part (some seeds, some settings, weaker effect).</summary>
    PartlySupported,
    /// <summary>This run contradicts the claim.</summary>
    NotSupported,
    /// <summary>The evidence does not decide it (too few seeds, noise).</summary>
    Inconclusive,
    /// <summary>This run did not test the claim.</summary>
    NotTested,
}

/// <summary>One row of a report's "claims and verdicts" table.</summary>
/// <param name="Claim">The paper's claim, in a sentence.</param>
/// <param name="Verdict">What this run found.</param>
/// <param name="Evidence">The numbers or figure that decide it (markdown allowed, one line).</param>
public sealed record ClaimVerdict(string Claim, Verdict Verdict, string Evidence)
{
    /// <summary>The verdict as shown in reports: "supported", "partly supported", ...</summary>
    public static string Text(Verdict verdict) => verdict switch
    {
        Verdict.Supported => "supported",
        Verdict.PartlySupported => "partly supported",
        Verdict.NotSupported => "not supported",
        Verdict.Inconclusive => "inconclusive",
        Verdict.NotTested => "not tested",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, null),
    };
}
