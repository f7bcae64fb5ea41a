using System.Text.Json;
using System.Text.Json.Nodes;

namespace Forge.Experiments.Cli;

/// <summary>Reads <c>--config FILE.json</c>: every problem is a one-line <see cref="UsageException"/> naming the file.</summary>
public static class ConfigFile
{
    /// <summary>Parses <paramref name="path"/> as a JSON object.</summary>
    public static JsonObject Load(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"config file '{path}' not found");
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path),
                documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return node as JsonObject ?? throw new UsageException($"config file '{path}' must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new UsageException($"config file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Converts a config object to <typeparamref name="T"/> (snake_case keys). A key <typeparamref name="T"/>
    /// does not have, or a value of the wrong type, is a <see cref="UsageException"/> naming the key.
    /// </summary>
    public static T Deserialize<T>(JsonObject config, string path)
    {
        try
        {
            return config.Deserialize<T>(RunJson.StrictOptions)
                   ?? throw new UsageException($"config file '{path}' is empty");
        }
        catch (JsonException e)
        {
            throw new UsageException($"config file '{path}': {e.Message}", e);
        }
    }
}
