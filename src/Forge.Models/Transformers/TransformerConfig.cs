using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Forge.Models.Transformers;

/// <summary>
/// The model config of the conventions (the JSON object stored as <c>config</c> in checkpoint
/// metadata): <c>n_layers, n_heads, d_model, d_head, d_mlp</c> (null = attention-only),
/// <c>n_ctx, d_vocab, d_vocab_out, d_in</c> (continuous read-in, else null),
/// <c>normalization</c> ("LN" or "none") and <c>act_fn</c> ("gelu_new"). <see cref="FromJson"/> also
/// reads TransformerLens's config keys (<see cref="TransformerConfigReader"/>); <see cref="ToJson"/>
/// writes only Forge's.
/// </summary>
public sealed record TransformerConfig
{
    public int NLayers { get; init; } = 1;
    public int NHeads { get; init; } = 1;
    public int DModel { get; init; }
    public int DHead { get; init; }
    /// <summary>Hidden width of the MLP; null for an attention-only model.</summary>
    public int? DMlp { get; init; }
    public int NCtx { get; init; }
    /// <summary>Token vocabulary (token models); for continuous models the conventions allow any value, we store d_in.</summary>
    public int DVocab { get; init; }
    /// <summary>Output width: token logits, or the real-valued output dimension of a continuous model.</summary>
    public int DVocabOut { get; init; }
    /// <summary>Width of the continuous read-in (inputs are real vectors, W_E is [d_in, d_model]); null for token models.</summary>
    public int? DIn { get; init; }
    /// <summary>"LN" (pre-LN blocks and a final LayerNorm) or "none".</summary>
    public string Normalization { get; init; } = "LN";
    public string ActFn { get; init; } = "gelu_new";

    [JsonIgnore] public bool HasMlp => DMlp is not null;
    [JsonIgnore] public bool HasLayerNorm => Normalization == "LN";
    [JsonIgnore] public bool IsContinuous => DIn is not null;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public TransformerConfig Validate()
    {
        void Positive(string name, int value)
        {
            if (value <= 0) throw new ArgumentException($"model config: {name} must be positive, got {value}");
        }
        Positive("n_layers", NLayers); Positive("n_heads", NHeads); Positive("d_model", DModel);
        Positive("d_head", DHead); Positive("n_ctx", NCtx); Positive("d_vocab", DVocab); Positive("d_vocab_out", DVocabOut);
        if (DMlp is int mlp) Positive("d_mlp", mlp);
        if (DIn is int dIn) Positive("d_in", dIn);
        if (Normalization is not ("LN" or "none"))
            throw new ArgumentException($"model config: normalization must be \"LN\" or \"none\", got \"{Normalization}\"");
        if (ActFn != "gelu_new") throw new ArgumentException($"model config: act_fn \"{ActFn}\" is not supported (only \"gelu_new\")");
        return this;
    }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    /// <summary>The conventions' JSON object (snake_case keys, nulls written out).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Parses and validates a config object: Forge's keys, and TransformerLens's where Forge can honour
    /// them (see <see cref="TransformerConfigReader"/> for every accepted form). Any problem, an unknown
    /// key included, is an <see cref="ArgumentException"/> whose one-line message starts with
    /// <paramref name="source"/> and names the key.
    /// </summary>
    public static TransformerConfig FromJson(string json, string source = "config")
    {
        JsonObject obj;
        // A key given twice is an error at parse time (JsonObject would otherwise throw a message-less
        // ArgumentException when first enumerated): which of the two values was meant is unknown.
        var options = new JsonDocumentOptions { AllowDuplicateProperties = false };
        try { obj = JsonNode.Parse(json, documentOptions: options) as JsonObject ?? throw new ArgumentException($"{source}: the model config is not a JSON object"); }
        catch (JsonException e) { throw new ArgumentException($"{source}: the model config is not valid JSON ({e.Message})"); }
        return TransformerConfigReader.Parse(obj, source);
    }
}
