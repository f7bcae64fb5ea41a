namespace Forge.Experiments.Affine;

/// <summary>
/// The held-out set as per-token regression variables: at token t = i·positions + n (sequence i, position
/// n: the layout of the model's outputs) the input x_n, the one before it x_{n−1}, the target x_{n+1} and the correction
/// x_{n+1} − x_n = a·(x_n − x_{n−1}), and masks that select tokens by position and by the sign of the
/// sequence's a (the groups of <see cref="AffinePerformance.Groups"/>).
/// </summary>
public sealed class AffineTokens
{
    /// <summary>
    /// From this position on three terms fix a and b, so the oracle is exact; pooled statistics use the
    /// positions from here on [ours] (positions 0 and 1 can only be guessed, and their error would swamp the
    /// rest). Per-position curves show every position.
    /// </summary>
    public const int FirstDeterminedPosition = 2;

    /// <summary>The groups every affine analysis splits by: all sequences, a &gt; 0, a &lt; 0.</summary>
    public static IReadOnlyList<string> SignGroups { get; } = ["all", "a > 0", "a < 0"];

    readonly Dictionary<string, bool[]> _pooled = new();

    public AffineTokens(AffineTestSet test)
    {
        Test = test;
        Positions = test.Positions;
        Count = test.Count * Positions;
        Current = new double[Count];
        Previous = new double[Count];
        Next = new double[Count];
        Correction = new double[Count];
        for (int i = 0; i < test.Count; i++)
        {
            var terms = test.TermsOf(i);
            for (int n = 0; n < Positions; n++)
            {
                int t = i * Positions + n;
                Current[t] = terms[n];
                Previous[t] = n > 0 ? terms[n - 1] : double.NaN;
                Next[t] = terms[n + 1];
                Correction[t] = terms[n + 1] - terms[n];
            }
        }
    }

    public AffineTestSet Test { get; }
    /// <summary>Tokens: sequences × positions.</summary>
    public int Count { get; }
    public int Positions { get; }
    /// <summary>x_n per token [tokens].</summary>
    public double[] Current { get; }
    /// <summary>x_{n−1} per token [tokens] (NaN at position 0).</summary>
    public double[] Previous { get; }
    /// <summary>x_{n+1} per token [tokens].</summary>
    public double[] Next { get; }
    /// <summary>x_{n+1} − x_n per token [tokens].</summary>
    public double[] Correction { get; }

    public int PositionOf(int token) => token % Positions;

    /// <summary>Whether sequence <paramref name="sequence"/> belongs to the group labelled <paramref name="group"/> ("all", "a &gt; 0", …).</summary>
    public bool InGroup(string group, int sequence) => Group(group)(Test, sequence);

    /// <summary>Tokens at positions ≥ <see cref="FirstDeterminedPosition"/> of the group's sequences [tokens] (cached).</summary>
    public bool[] Pooled(string group)
    {
        if (_pooled.TryGetValue(group, out var mask)) return mask;
        var include = Group(group);
        mask = new bool[Count];
        for (int t = 0; t < Count; t++) mask[t] = PositionOf(t) >= FirstDeterminedPosition && include(Test, t / Positions);
        return _pooled[group] = mask;
    }

    /// <summary>Tokens at position <paramref name="position"/> [tokens].</summary>
    public bool[] AtPosition(int position)
    {
        var mask = new bool[Count];
        for (int t = position; t < Count; t += Positions) mask[t] = true;
        return mask;
    }

    static Func<AffineTestSet, int, bool> Group(string label) =>
        AffinePerformance.Groups.FirstOrDefault(g => g.Label == label).Include
        ?? throw new ArgumentException($"AffineTokens: no group '{label}' (groups: {string.Join(", ", AffinePerformance.Groups.Select(g => g.Label))})");
}
