using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Experiments.Runs;

namespace Forge.Experiments.Language;

/// <summary>One point of a run's coupling-over-training analysis (development.json).</summary>
public sealed record LmDevelopmentSummary(long Step, double ValLoss, double Coupling, double LineShape, double NormR2);

/// <summary>The numbers of one analysed language model, from config.json, analysis.json and (when present) development.json.</summary>
public sealed record LmRunSummary(string Folder, int Layers, int DModel, long Parameters, int Steps, double WeightDecay, ulong Seed,
    double ValLoss, double TrainLoss, int K, double Coupling, double CouplingUntrained, double LineShape, double LineShapeUntrained,
    double NormR2, double NormR2Untrained, IReadOnlyList<LmDevelopmentSummary>? Development)
{
    public string Name => $"L{Layers}-d{DModel}-s{Steps}-wd{WeightDecay.ToString(CultureInfo.InvariantCulture)}-seed{Seed}";

    public static LmRunSummary Read(string folder)
    {
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.ConfigFileName)))!.AsObject();
            var analysis = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.AnalysisFileName)))!.AsObject();
            int k = analysis["coupling_k"]!.GetValue<int>();
            string key = k.ToString(CultureInfo.InvariantCulture);
            List<LmDevelopmentSummary>? development = null;
            string path = Path.Combine(folder, LmDevelopment.DevelopmentFile);
            if (File.Exists(path))
                development = (JsonNode.Parse(File.ReadAllText(path))!["points"] as JsonArray ?? []).Select(p => new LmDevelopmentSummary(
                    p!["step"]!.GetValue<long>(), Number(p["val_loss"]), Number(p["coupling"]?[key]), Number(p["line_shape"]), Number(p["norm_r2"]))).ToList();
            return new LmRunSummary(folder, config["layers"]!.GetValue<int>(), config["d_model"]!.GetValue<int>(), analysis["parameters"]!.GetValue<long>(),
                config["steps"]!.GetValue<int>(), config["weight_decay"]!.GetValue<double>(), config["seed"]!.GetValue<ulong>(),
                Number(analysis["val_loss"]), Number(analysis["train_loss"]), k, Number(analysis["coupling"]?[key]), Number(analysis["coupling_untrained"]?[key]),
                Number(analysis["line_shape_score"]), Number(analysis["line_shape_score_untrained"]),
                Number(analysis["growth"]?["norm_r2"]), Number(analysis["growth_untrained"]?["norm_r2"]), development);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or IOException or FormatException)
        {
            throw new InvalidDataException($"cannot read the lm run in '{folder}': {e.Message}", e);
        }
    }

    static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN;
}
