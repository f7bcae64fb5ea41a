namespace Forge.Experiments.Explain;

/// <summary>
/// What an <c>explain</c> walkthrough prints, and the finite-difference checks behind it. The text is a
/// list of sections, printed with one blank line between them. A section never holds a blank line, so
/// docs/attention-backward.md can quote each one verbatim and a test can compare them one by one.
/// </summary>
public sealed class Walkthrough
{
    readonly List<string> _sections = [];
    readonly List<GradientCheck> _checks = [];

    /// <param name="tolerance">How far a backward entry may be from its finite difference: 1e-8 in float64.</param>
    public Walkthrough(double tolerance) => Tolerance = tolerance;

    /// <summary>The largest allowed |backward − finite difference| of any entry.</summary>
    public double Tolerance { get; }

    /// <summary>The printed sections, in order.</summary>
    public IReadOnlyList<string> Sections => _sections;

    /// <summary>Every gradient that was compared with its finite difference.</summary>
    public IReadOnlyList<GradientCheck> Checks => _checks;

    /// <summary>Whether every backward step matched its finite difference.</summary>
    public bool Passed => _checks.All(check => check.Passed);

    /// <summary>Starts a section; <see cref="Add"/> it when it is complete.</summary>
    public Section Section(string title) => new(title);

    public void Add(Section section) => _sections.Add(section.ToString());

    /// <summary>
    /// Prints a gradient computed by the engine beside its finite difference (both [rows, cols], shape
    /// names the axes) and records the check.
    /// </summary>
    public void Gradient(Section section, string name, string shape, double[] backward, double[] numeric, int rows, int cols)
    {
        double maxDifference = 0;
        for (int n = 0; n < backward.Length; n++) maxDifference = Math.Max(maxDifference, Math.Abs(backward[n] - numeric[n]));
        _checks.Add(new GradientCheck(name, maxDifference, Tolerance));
        section.Blocks(new Block($"{name} {shape}", backward, rows, cols), new Block("finite difference", numeric, rows, cols));
    }

    /// <summary>One line saying whether the gradients of this section matched their finite differences.</summary>
    public void Verdict(Section section, params string[] names)
    {
        var failed = _checks.Where(check => names.Contains(check.Name) && !check.Passed).ToList();
        string tolerance = Numbers.Power(Tolerance);
        section.Line(failed.Count == 0
            ? $"✓ {string.Join(", ", names)}: every entry within {tolerance} of its finite difference"
            : $"✗ {string.Join(", ", failed.Select(f => $"{f.Name} is {f.MaxDifference:0.0e0} from its finite difference"))} (allowed: {tolerance})");
    }

    /// <summary>The sections with a blank line between them, ending in a newline.</summary>
    public void WriteTo(TextWriter output)
    {
        output.Write(string.Join("\n\n", _sections));
        output.Write('\n');
    }
}

/// <summary>One backward result compared with its float64 finite difference.</summary>
/// <param name="Name">The gradient (<c>dq</c>, <c>dScores</c>, …).</param>
/// <param name="MaxDifference">The largest |backward − finite difference| over its entries.</param>
/// <param name="Tolerance">The largest allowed.</param>
public sealed record GradientCheck(string Name, double MaxDifference, double Tolerance)
{
    public bool Passed => MaxDifference <= Tolerance;
}
