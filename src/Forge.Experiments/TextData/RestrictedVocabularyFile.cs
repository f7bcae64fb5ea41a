using System.Text.Json;
using Forge.Experiments.Cli;
using Forge.Models.Checkpoints;

namespace Forge.Experiments.TextData;

/// <summary>
/// The JSON file that records exactly which vocabulary a run used, so that its checkpoints can be read
/// (and its numbers reproduced) later even if the rule that chose the vocabulary changes:
/// <code>
/// {
///   "tokenizer": "gpt2",
///   "gpt2_ids": [50256, 13, 262, 11, ...]
/// }
/// </code>
/// Entry i of <c>gpt2_ids</c> is the GPT-2 id of dense id i; the unknown id is the list's length.
/// </summary>
public static class RestrictedVocabularyFile
{
    /// <summary>The only tokenizer the ids can belong to, written so that a file is never read against another.</summary>
    public const string Tokenizer = "gpt2";

    sealed record Content(string? Tokenizer, int[]? Gpt2Ids);

    /// <summary>Writes <paramref name="vocabulary"/> to <paramref name="path"/> atomically (the ids on one line: thousands of them).</summary>
    public static void Write(string path, RestrictedVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        string json = "{\n" +
                      $"  \"tokenizer\": \"{Tokenizer}\",\n" +
                      $"  \"gpt2_ids\": [{string.Join(", ", vocabulary.Gpt2Ids)}]\n" +
                      "}\n";
        AtomicFile.WriteAllText(path, json);
    }

    /// <summary>Reads a vocabulary file; a missing, malformed or inconsistent file is a one-line <see cref="UsageException"/> naming it.</summary>
    public static RestrictedVocabulary Read(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"vocabulary file '{path}' not found");
        Content? content;
        try
        {
            content = JsonSerializer.Deserialize<Content>(File.ReadAllText(path), RunJson.StrictOptions);
        }
        catch (JsonException e)
        {
            throw new UsageException($"vocabulary file '{path}' is not valid JSON: {e.Message}", e);
        }
        if (content?.Tokenizer != Tokenizer)
            throw new UsageException($"vocabulary file '{path}' must say \"tokenizer\": \"{Tokenizer}\", not {Quote(content?.Tokenizer)}");
        if (content.Gpt2Ids is null)
            throw new UsageException($"vocabulary file '{path}' has no \"gpt2_ids\" list");
        try
        {
            return new RestrictedVocabulary(content.Gpt2Ids);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"vocabulary file '{path}': {e.Message}", e);
        }
    }

    static string Quote(string? text) => text is null ? "nothing" : $"\"{text}\"";
}
