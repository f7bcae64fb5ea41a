using System.Globalization;
using System.Text.Json.Nodes;
using Forge.Experiments.Sweeps;

namespace Forge.Experiments.Language;

/// <summary>One model of the language-model family: the options that turn the default recipe into it.</summary>
public sealed record LmSetting(string Name, IReadOnlyList<string> Arguments) : ISweepSetting
{
    public bool IsBase => Arguments.Count == 0;
    public JsonObject Describe() => new();

    /// <summary>A model of <paramref name="layers"/> blocks of width <paramref name="width"/> (heads of 32, MLP 4×), trained <paramref name="steps"/> steps with weight decay <paramref name="decay"/>.</summary>
    public static LmSetting Model(int layers, int width, int steps, double decay) =>
        new($"L{layers}-d{width}-s{steps}-wd{decay.ToString(CultureInfo.InvariantCulture)}",
        [
            "--layers", I(layers), "--d-model", I(width), "--heads", I(width / 32), "--d-head", "32", "--d-mlp", I(4 * width),
            "--steps", I(steps), "--weight-decay", decay.ToString(CultureInfo.InvariantCulture),
        ]);

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A named group of language models.</summary>
public sealed record LmSweepGroup(string Name, IReadOnlyList<LmSetting> Settings) : ISweepGroup
{
    IReadOnlyList<ISweepSetting> ISweepGroup.Settings => Settings;
}

/// <summary>
/// The coupling paper's family [ours, docs/experiments/coupling.md]: <c>family</c> — 24 models, every combination of
/// six sizes (depth 2, 4, 6 × width 64, 128, with 96 in place of 64 at depth 6), two training lengths (1,000 and
/// 3,000 steps) and two weight decays (0 and 0.1), for the correlation of coupling with held-out loss;
/// <c>dynamics</c> — three sizes trained 3,000 steps, for coupling over the checkpoints (<c>analyze --development</c>).
/// </summary>
public sealed class LmSweep : ISweepDesign
{
    public static readonly (int Layers, int Width)[] Sizes = [(2, 64), (2, 128), (4, 64), (4, 128), (6, 96), (6, 128)];
    public static readonly int[] Lengths = [1000, 3000];
    public static readonly double[] Decays = [0.0, 0.1];

    public string GridDescription => "24 models: depth × width × training length × weight decay (family); 3 sizes for coupling over training (dynamics)";

    /// <summary>The family's models, in grid order.</summary>
    public static readonly IReadOnlyList<LmSetting> Family =
        [.. from size in Sizes from steps in Lengths from decay in Decays select LmSetting.Model(size.Layers, size.Width, steps, decay)];

    /// <summary>The models of the training-dynamics analysis: three of the family's (the same runs, so a sweep trains each once).</summary>
    public static readonly IReadOnlyList<LmSetting> Dynamics =
        [.. Family.Where(s => s.Name is "L2-d64-s3000-wd0.1" or "L4-d128-s3000-wd0.1" or "L6-d128-s3000-wd0.1")];

    public IReadOnlyList<ISweepGroup> Groups { get; } = [new LmSweepGroup("family", Family), new LmSweepGroup("dynamics", Dynamics)];

    public IReadOnlyList<string> VariedOptions { get; } = ["--layers", "--d-model", "--heads", "--d-head", "--d-mlp", "--steps", "--weight-decay"];

    public string WriteReport(IReadOnlyList<string> paths, string outDir, TextWriter output) => LmSweepReport.Write(paths, outDir, output);
}
