using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Forge.Experiments;

/// <summary>
/// The JSON settings for everything a run writes or reads (config.json, summary.json, --config):
/// snake_case keys as in the conventions (<c>n_layers</c>, <c>train_seconds</c>), indented, and
/// non-finite numbers written as the strings "NaN"/"Infinity" rather than failing the write.
/// </summary>
public static class RunJson
{
    /// <summary>For writing: indented snake_case.</summary>
    public static JsonSerializerOptions WriteOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>For reading settings: like <see cref="WriteOptions"/>, but an unknown key is an error.</summary>
    public static JsonSerializerOptions StrictOptions { get; } = new(WriteOptions)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };
}
