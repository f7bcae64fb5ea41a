using System.Text.Json;
using System.Text.Json.Nodes;

namespace Forge.Experiments.Runs;

/// <summary>
/// The final numbers of a run (summary.json). The four required keys come first: <c>steps</c>,
/// <c>train_seconds</c> (the training loop only, not setup or analysis), <c>steps_per_second</c> and
/// <c>final_train_loss</c>; then the experiment's extras (token tasks: <c>val_loss</c>, <c>val_acc</c>;
/// regression tasks: <c>val_mse</c>).
/// </summary>
public sealed record RunSummary(long Steps, double TrainSeconds, double FinalTrainLoss)
{
    /// <summary>The keys every summary.json has, in the order they are written.</summary>
    public static IReadOnlyList<string> RequiredKeys { get; } = ["steps", "train_seconds", "steps_per_second", "final_train_loss"];

    /// <summary>Training throughput; 0 when no time was measured.</summary>
    public double StepsPerSecond => TrainSeconds > 0 ? Steps / TrainSeconds : 0;

    /// <summary>Experiment-specific values (numbers, strings, arrays, objects), written after the required keys.</summary>
    public IReadOnlyDictionary<string, object?> Extras { get; init; } = new Dictionary<string, object?>();

    /// <summary>The JSON object written to summary.json.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["steps"] = Steps,
            ["train_seconds"] = Number(TrainSeconds),
            ["steps_per_second"] = Number(StepsPerSecond),
            ["final_train_loss"] = Number(FinalTrainLoss),
        };
        foreach (var (key, value) in Extras)
        {
            if (RequiredKeys.Contains(key))
                throw new ArgumentException($"RunSummary: extra key '{key}' collides with a required key.", nameof(Extras));
            json[key] = JsonSerializer.SerializeToNode(value, RunJson.WriteOptions);
        }
        return json;
    }

    // JSON has no NaN or infinity; a diverged run's loss is written as the string "NaN" (as
    // RunJson.WriteOptions does for extras) instead of failing the write.
    static JsonNode Number(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
