using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// What the coupling command writes: coupling.json (the numbers; <c>coupling</c> and <c>singular_values</c> as
/// the issue fixes them, the rest beside), the figures, config.json (the settings) and report.md.
/// </summary>
public static class CouplingReport
{
    public const string JsonFile = "coupling.json";

    /// <summary>The coupling command's output: coupling.json, config.json (the settings), the figures and report.md.</summary>
    public static void Write(RunFolder folder, CouplingSettings settings, TransformerConfig config, CouplingResult trained, CouplingResult untrained,
        IReadOnlyDictionary<int, double[,]> random, string untrainedInit)
    {
        AtomicFile.WriteAllText(Path.Combine(folder.Root, JsonFile), ToJson(trained, untrained, random, untrainedInit).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(folder.ConfigPath, new JsonObject
        {
            ["tool"] = "coupling", ["checkpoint"] = Path.GetFullPath(settings.Checkpoint), ["tokens"] = settings.Tokens is null ? null : Path.GetFullPath(settings.Tokens),
            ["k"] = new JsonArray(trained.Coupling.Keys.Select(k => (JsonNode?)k).ToArray()), ["positions"] = settings.Positions, ["prompts"] = settings.Prompts,
            ["token_layer"] = trained.TokenLayer, ["untrained_init"] = untrainedInit, ["baseline_repeats"] = settings.BaselineRepeats,
            ["model"] = JsonNode.Parse(config.ToJson()), ["engine"] = EngineInfo.Version,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var report = new ReportBuilder(folder.Root).Heading("Transformer block coupling", 1)
            .Paragraph($"Checkpoint `{Path.GetFileName(settings.Checkpoint)}`: {config.NLayers} blocks, d_model {config.DModel}, {config.NHeads} heads, " +
                       $"{(config.DMlp is int m ? $"d_mlp {m}" : "attention only")}.");
        AddSections(report, folder.FiguresFolder, trained, untrained, random, untrainedInit);
        AtomicFile.WriteAllText(folder.ReportPath, report.ToString());
    }

    /// <summary>
    /// coupling.json's content: the trained model's numbers at the top level (<c>coupling</c>: K → L × L matrix averaged
    /// over prompts at the last chosen position; <c>singular_values</c>: per layer, of the first prompt), then the
    /// untrained copy's and the random baseline's under their own keys.
    /// </summary>
    public static JsonObject ToJson(CouplingResult trained, CouplingResult untrained, IReadOnlyDictionary<int, double[,]> random, string untrainedInit)
    {
        var json = Numbers(trained);
        json["untrained"] = Numbers(untrained);
        json["untrained_init"] = untrainedInit;
        json["random"] = new JsonObject
        {
            ["coupling"] = ByK(random, Matrix),
            ["scalar"] = ByK(random.ToDictionary(e => e.Key, e => CouplingMetric.Scalar(e.Value)), v => Number(v)),
        };
        json["prompts"] = trained.Prompts;
        json["prompt_length"] = trained.PromptLength;
        json["positions"] = new JsonArray(trained.Positions.Select(p => (JsonNode?)p).ToArray());
        json["token_layer"] = trained.TokenLayer;
        return json;
    }

    /// <summary>The tables and figures of one model's coupling, trained against untrained and random, added to <paramref name="report"/>.</summary>
    public static void AddSections(ReportBuilder report, string figures, CouplingResult trained, CouplingResult untrained, IReadOnlyDictionary<int, double[,]> random, string untrainedInit)
    {
        report.Paragraph($"{trained.Prompts} prompts of {trained.PromptLength} tokens; Jacobians at positions {string.Join(", ", trained.Positions)} " +
                         $"(the layer × layer coupling at the last, {trained.Positions[^1]}), in float64. Untrained copy: the same architecture freshly " +
                         $"initialised ({untrainedInit}). Random baseline: independent Gaussian d × d matrices.")
            .Paragraph("m_K(J₁, J₂) = ‖ |U₂,Kᵀ J₁ V₂,K| − S₁,K ‖_F / ‖s₁,K‖₂ (0 = J₂'s top-K singular bases diagonalise J₁; ≈ 1 unrelated). " +
                       "The coupling scalar is the mean of 1 − m_K over pairs of different blocks and over prompts (higher = more coupled).")
            .Table(["K", "coupling scalar, trained", "untrained", "random matrices", "token-wise (layer " + trained.TokenLayer + "), trained", "untrained"],
                trained.Coupling.Keys.Select(k => (IReadOnlyList<object?>)[k, F(trained.Scalar[k]), F(untrained.Scalar[k]), F(CouplingMetric.Scalar(random[k])),
                    F(CouplingMetric.Scalar(trained.TokenCoupling[k])), F(CouplingMetric.Scalar(untrained.TokenCoupling[k]))]))
            .Table(["trajectories", "line shape score (1 = straight)", "log‖x^l‖ slope per layer", "its R²", "log step-length slope", "its R²", "CV of step ratios"],
                [Shape("trained", trained), Shape("untrained", untrained)]);

        int k0 = trained.Coupling.Keys.First();
        string layers = Path.Combine(figures, "coupling_layers.png");
        Figures.HeatMapGrid(layers, [new($"trained, K = {k0}", OneMinusSquare(trained.Coupling[k0])), new("untrained", OneMinusSquare(untrained.Coupling[k0])),
            new("random matrices", OneMinusSquare(random[k0]))], "1 − m_K² between blocks (row i: J^i, column j: the bases of J^j)", "block j", "block i", columns: 3);
        report.Figure(layers, "Layer × layer coupling, trained vs untrained vs random");
        string tokens = Path.Combine(figures, "coupling_tokens.png");
        var labels = trained.Positions.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
        Figures.HeatMapGrid(tokens, [new($"trained, layer {trained.TokenLayer}, K = {k0}", OneMinusSquare(trained.TokenCoupling[k0]), labels, labels),
            new("untrained", OneMinusSquare(untrained.TokenCoupling[k0]), labels, labels)], "1 − m_K² between token positions at one block", "position", "position", columns: 2);
        report.Figure(tokens, "Token × token coupling");
        foreach (var (name, result) in new[] { ("trained", trained), ("untrained", untrained) })
        {
            string grid = Path.Combine(figures, $"projections_{name}.png");
            ProjectionGrid(grid, result, Math.Min(k0, 10), name);
            report.Figure(grid, $"|U_jᵀ J_i V_j| / σ₁(J_i), {name} (first prompt)");
        }
        string singular = Path.Combine(figures, "singular_values.png");
        Figures.Lines(singular, [.. trained.SingularValues.Select((s, l) => Series.OverIndex($"block {l}", s, firstStep: 1)),
            .. untrained.SingularValues.Select((s, l) => Series.OverIndex($"block {l}, untrained", s, firstStep: 1))],
            "Singular values of the residual Jacobians (first prompt)", "index", "σ", logY: true);
        report.Figure(singular, "Singular values");
    }

    static IReadOnlyList<object?> Shape(string name, CouplingResult r) =>
    [
        name, F(r.MeanLineShape), F(r.Mean(t => t.NormSlope)), F(r.Mean(t => t.NormR2)), F(r.Mean(t => t.StepSlope)), F(r.Mean(t => t.StepR2)), F(r.Mean(t => t.StepRatioCv)),
    ];

    /// <summary>The numbers of one model.</summary>
    public static JsonObject Numbers(CouplingResult r) => new()
    {
        ["coupling"] = ByK(r.Coupling, Matrix),
        ["coupling_sum_normalised"] = ByK(r.CouplingSum, Matrix),
        ["token_coupling"] = ByK(r.TokenCoupling, Matrix),
        ["scalar"] = ByK(r.Scalar, v => Number(v)),
        ["singular_values"] = new JsonArray(r.SingularValues.Select(s => (JsonNode?)new JsonArray(s.Select(v => (JsonNode?)Number(v)).ToArray())).ToArray()),
        ["line_shape_score"] = Number(r.MeanLineShape),
        ["growth"] = new JsonObject
        {
            ["norm_slope"] = Number(r.Mean(t => t.NormSlope)), ["norm_r2"] = Number(r.Mean(t => t.NormR2)),
            ["step_slope"] = Number(r.Mean(t => t.StepSlope)), ["step_r2"] = Number(r.Mean(t => t.StepR2)),
            ["step_ratio_cv"] = Number(r.Mean(t => t.StepRatioCv)),
        },
    };

    static JsonObject ByK<TValue>(IReadOnlyDictionary<int, TValue> values, Func<TValue, JsonNode?> convert)
    {
        var json = new JsonObject();
        foreach (var (k, v) in values) json[k.ToString(CultureInfo.InvariantCulture)] = convert(v);
        return json;
    }

    static JsonNode Matrix(double[,] m) => new JsonArray(Enumerable.Range(0, m.GetLength(0))
        .Select(i => (JsonNode?)new JsonArray(Enumerable.Range(0, m.GetLength(1)).Select(j => (JsonNode?)Number(m[i, j])).ToArray())).ToArray());

    /// <summary>A finite number, or null (JSON has no NaN).</summary>
    static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static double[,] OneMinusSquare(double[,] m)
    {
        var r = new double[m.GetLength(0), m.GetLength(1)];
        for (int i = 0; i < m.GetLength(0); i++) for (int j = 0; j < m.GetLength(1); j++) r[i, j] = 1 - m[i, j] * m[i, j];
        return r;
    }

    /// <summary>One panel per (i, j): |U_jᵀ J_i V_j| over the top <paramref name="k"/> directions, divided by σ₁(J_i) — a coupled pair shows a clean diagonal.</summary>
    static void ProjectionGrid(string path, CouplingResult r, int k, string name)
    {
        int layers = r.Example.Count;
        var panels = new List<HeatMapPanel>();
        for (int i = 0; i < layers; i++)
            for (int j = 0; j < layers; j++)
            {
                var product = CouplingMetric.Projected(r.Example[i], r.Example[j], k);
                double top = r.Example[i].S[0];
                var values = new double[k, k];
                for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) values[a, b] = top == 0 ? 0 : Math.Abs(product[a, b]) / top;
                panels.Add(new($"J{i} in bases of J{j}", values));
            }
        Figures.HeatMapGrid(path, panels, $"|U_jᵀ J_i V_j| / σ₁(J_i), top {k} directions, {name}", "V_j column", "U_j column",
            HeatMapScale.Probability, columns: layers, panelWidth: 240, panelHeight: 220);
    }

    static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "–";
}
