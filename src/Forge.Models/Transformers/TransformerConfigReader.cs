using System.Text.Json;
using System.Text.Json.Nodes;

namespace Forge.Models.Transformers;

/// <summary>
/// Reads a model config JSON object: Forge's own keys (exactly what <see cref="TransformerConfig.ToJson"/>
/// writes, which load as before) and the keys of TransformerLens's <c>HookedTransformerConfig</c>, so the
/// config a PyTorch user dumps with <c>json.dumps(cfg.to_dict(), default=str)</c> loads too. Every key is
/// understood or refused — none is silently ignored, since an ignored key that changes the model would
/// give a different model without a word. Each error is an <see cref="ArgumentException"/> whose one-line
/// message starts with the source and names the key.
/// <list type="bullet">
/// <item>Integers: JSON integers, or floats with an integral value (<c>96.0</c>, as Python writes
/// <c>d_model / n_heads</c>); <c>96.5</c> or <c>"96"</c> is an error naming the key.</item>
/// <item><c>d_vocab</c>: missing, null or -1 (TransformerLens's "not set") means d_in for a continuous
/// model (d_in set; its W_E has d_in rows, so d_vocab is not used) and is an error for a token model.</item>
/// <item><c>d_vocab_out</c>: missing, null or -1 means d_vocab (TransformerLens's default), except for a
/// continuous model without d_vocab, whose output width cannot be guessed: an error.</item>
/// <item><c>act_fn</c>: "gelu_new", or "gelu_pytorch_tanh" (PyTorch's <c>gelu(approximate="tanh")</c>,
/// the same formula ½x(1 + tanh(√(2/π)(x + 0.044715x³))), stored as "gelu_new"); missing means
/// "gelu_new"; null is accepted only without an MLP (TransformerLens writes null for attention-only
/// models). "gelu" (the exact erf form), "gelu_fast" (a truncated √(2/π)), "relu", … are errors.</item>
/// <item><c>normalization</c> (Forge: "LN" or "none"; null = "none") and TransformerLens's
/// <c>normalization_type</c> ("LN" → "LN", null → "none"; "LNPre", "RMS", "RMSPre" are errors). When both
/// are given they must agree.</item>
/// <item><c>attn_only</c>: true requires d_mlp null or absent; false requires a d_mlp (TransformerLens
/// would silently take 4·d_model; we ask for it).</item>
/// <item>TransformerLens settings that change the model are accepted only at the value Forge computes:
/// <see cref="CheckedKeys"/>. Settings that do not change what the model computes — bookkeeping,
/// initialisation (the weights come from the checkpoint), tokenizer, which hooks exist, and settings
/// used only by a feature whose switch is checked — are accepted with any value: <see cref="InertKeys"/>.</item>
/// <item>Any other key is an error naming it.</item>
/// </list>
/// </summary>
public static class TransformerConfigReader
{
    /// <summary>The keys <see cref="TransformerConfig.ToJson"/> writes.</summary>
    public static readonly IReadOnlyList<string> ForgeKeys =
        ["n_layers", "n_heads", "d_model", "d_head", "d_mlp", "n_ctx", "d_vocab", "d_vocab_out", "d_in", "normalization", "act_fn"];

    /// <summary>TransformerLens keys read into Forge's config (see the class summary).</summary>
    public static readonly IReadOnlyList<string> MappedKeys = ["normalization_type", "attn_only"];

    /// <summary>
    /// TransformerLens settings that change the model, with the only value(s) Forge computes
    /// (TransformerLens's defaults, which describe a GPT-2-style model).
    /// </summary>
    public static readonly IReadOnlyList<string> CheckedKeys =
    [
        "positional_embedding_type",          // "standard": learned W_pos added to the residual stream
        "attention_dir",                      // "causal"
        "use_attn_scale", "attn_scale",       // true; -1 (unset) or √d_head
        "eps",                                // 1e-5, LayerNorm's epsilon
        "n_key_value_heads",                  // null or n_heads (no grouped-query attention)
        "use_local_attn", "scale_attn_by_inverse_layer_idx", "final_rms", "gated_mlp", "parallel_attn_mlp",
        "post_embedding_ln", "use_normalization_before_and_after", "load_in_4bit",   // false
        "num_experts",                        // null (no mixture of experts)
        "attn_scores_soft_cap", "output_logits_soft_cap",   // ≤ 0: no soft cap (TransformerLens's -1.0)
    ];

    /// <summary>TransformerLens keys that do not change what the model computes; any value is accepted.</summary>
    public static readonly IReadOnlyList<string> InertKeys =
    [
        // bookkeeping and where/how TransformerLens runs the model
        "model_name", "original_architecture", "from_checkpoint", "checkpoint_index", "checkpoint_label_type",
        "checkpoint_value", "n_params", "device", "n_devices", "dtype", "trust_remote_code",
        // initialisation: a checkpoint brings its own weights
        "seed", "init_mode", "initializer_range", "init_weights",
        // tokenization: Forge reads token ids
        "tokenizer_name", "default_prepend_bos", "tokenizer_prepends_bos",
        // which hook points exist, not the numbers
        "use_attn_result", "use_split_qkv_input", "use_hook_mlp_in", "use_attn_in", "use_hook_tokens",
        "ungroup_grouped_query_attention",
        // read only when a checked switch is on: rotary (positional_embedding_type), local attention
        // (use_local_attn), experts (num_experts), T5's relative attention and decoder, T5's weight tying
        "rotary_dim", "rotary_base", "rotary_adjacent_pairs", "use_NTK_by_parts_rope", "NTK_by_parts_low_freq_factor",
        "NTK_by_parts_high_freq_factor", "NTK_by_parts_factor", "window_size", "attn_types", "experts_per_token",
        "relative_attention_max_distance", "relative_attention_num_buckets", "decoder_start_token_id", "tie_word_embeddings",
    ];

    public static TransformerConfig Parse(JsonObject json, string source)
    {
        var reader = new Reader(json, source);
        reader.RejectUnknownKeys();
        int nLayers = reader.Required("n_layers"), nHeads = reader.Required("n_heads"), dModel = reader.Required("d_model");
        int dHead = reader.Required("d_head"), nCtx = reader.Required("n_ctx");
        int? dIn = reader.Integer("d_in");
        int? dMlp = reader.MlpWidth(dModel);
        var (dVocab, dVocabOut) = reader.Vocabularies(dIn);
        var config = new TransformerConfig
        {
            NLayers = nLayers, NHeads = nHeads, DModel = dModel, DHead = dHead, DMlp = dMlp, NCtx = nCtx,
            DVocab = dVocab, DVocabOut = dVocabOut, DIn = dIn,
            Normalization = reader.Normalization(), ActFn = reader.ActivationFunction(dMlp),
        };
        reader.CheckTransformerLensSettings(nHeads, dHead);
        try { return config.Validate(); }
        catch (ArgumentException e) { throw reader.Error(e.Message); }
    }

    sealed class Reader(JsonObject json, string source)
    {
        public ArgumentException Error(string problem) => new($"{source}: {problem}");

        /// <summary>A value as written in JSON: null, 96.5, "RMS", true.</summary>
        static string Show(JsonNode? node) => node?.ToJsonString() ?? "null";

        bool Has(string key, out JsonNode? node) => json.TryGetPropertyValue(key, out node);

        public void RejectUnknownKeys()
        {
            foreach (var (key, _) in json)
                if (!ForgeKeys.Contains(key) && !MappedKeys.Contains(key) && !CheckedKeys.Contains(key) && !InertKeys.Contains(key))
                    throw Error($"unknown model config key '{key}' (Forge's keys: {string.Join(", ", ForgeKeys)}; " +
                                "TransformerLens keys are accepted only where Forge can honour them)");
        }

        public int Required(string key) =>
            Has(key, out _) ? Integer(key) ?? throw Error($"\"{key}\" is null; it must be a positive integer")
                : throw Error($"the model config has no \"{key}\"");

        /// <summary>The integer under <paramref name="key"/>, null when absent or null; integral floats (96.0) accepted.</summary>
        public int? Integer(string key)
        {
            if (!Has(key, out var node) || node is null) return null;
            // A double holds every int exactly, so 96, 96.0 and 9.6e1 all arrive as 96.
            if (Number(node) is double real && double.IsInteger(real))
                return real is >= int.MinValue and <= int.MaxValue ? (int)real
                    : throw Error($"key '{key}' is {Show(node)}, beyond the largest supported value {int.MaxValue}");
            throw Error($"key '{key}' must be an integer, got {Show(node)}");
        }

        /// <summary>The string under <paramref name="key"/>; <paramref name="present"/> false when absent.</summary>
        string? Text(string key, out bool present)
        {
            present = Has(key, out var node);
            if (node is null) return null;
            if (node is JsonValue value && value.TryGetValue(out string? text)) return text;
            throw Error($"key '{key}' must be a string or null, got {Show(node)}");
        }

        bool? Boolean(string key)
        {
            if (!Has(key, out var node)) return null;
            if (node is JsonValue value && value.TryGetValue(out bool flag)) return flag;
            throw Error($"key '{key}' must be true or false, got {Show(node)}");
        }

        /// <summary>d_mlp (null = attention-only), checked against TransformerLens's attn_only.</summary>
        public int? MlpWidth(int dModel)
        {
            int? dMlp = Integer("d_mlp");
            bool? attentionOnly = Boolean("attn_only");
            if (attentionOnly == true && dMlp is int width)
                throw Error($"attn_only is true but d_mlp is {width}; an attention-only model has d_mlp null");
            if (attentionOnly == false && dMlp is null)
                throw Error($"attn_only is false but d_mlp is {(Has("d_mlp", out _) ? "null" : "missing")}; give d_mlp " +
                            $"(TransformerLens would take 4·d_model = {4L * dModel})");
            return dMlp;
        }

        /// <summary>(d_vocab, d_vocab_out) with TransformerLens's "not set" (-1, null, missing) resolved.</summary>
        public (int DVocab, int DVocabOut) Vocabularies(int? dIn)
        {
            int? Set(string key) => Integer(key) is int value && value != -1 ? value : null;
            string Unset(string key) => Has(key, out var node) ? $"\"{key}\" is {Show(node)}" : $"the model config has no \"{key}\"";

            int? dVocab = Set("d_vocab");
            if (dVocab is null && dIn is null)
                throw Error($"{Unset("d_vocab")}; a token model (d_in null) needs its vocabulary size");
            if (Set("d_vocab_out") is int dVocabOut) return (dVocab ?? dIn!.Value, dVocabOut);
            if (dVocab is int vocabulary) return (vocabulary, vocabulary);
            throw Error($"{Unset("d_vocab_out")}; a continuous model (d_in {dIn}) needs its output width");
        }

        /// <summary>"LN" or "none", from Forge's normalization and/or TransformerLens's normalization_type.</summary>
        public string Normalization()
        {
            string? forge = Text("normalization", out bool hasForge);
            string? lens = Text("normalization_type", out bool hasLens);
            string? fromLens = !hasLens ? null : lens switch
            {
                "LN" => "LN",
                null => "none",
                _ => throw Error($"normalization_type \"{lens}\" is not supported (Forge supports \"LN\" and null = no normalization)"),
            };
            string? fromForge = hasForge ? forge ?? "none" : null;
            if (fromForge is not null && fromLens is not null && fromForge != fromLens)
                throw Error($"normalization {Show(json["normalization"])} and normalization_type {Show(json["normalization_type"])} disagree");
            return fromForge ?? fromLens ?? "LN";   // Validate() names an unsupported Forge value
        }

        /// <summary>"gelu_new": the only activation; its PyTorch name is accepted, null only without an MLP.</summary>
        public string ActivationFunction(int? dMlp)
        {
            const string supported = "Forge supports \"gelu_new\" (GPT-2's tanh approximation, also accepted as \"gelu_pytorch_tanh\")";
            string? name = Text("act_fn", out bool present);
            if (!present) return "gelu_new";
            return name switch
            {
                "gelu_new" or "gelu_pytorch_tanh" => "gelu_new",
                null when dMlp is null => "gelu_new",   // no MLP: the activation is never applied
                null => throw Error($"act_fn is null but the model has an MLP (d_mlp {dMlp}); {supported}"),
                _ => throw Error($"act_fn \"{name}\" is not supported; {supported}"),
            };
        }

        public void CheckTransformerLensSettings(int nHeads, int dHead)
        {
            Expect("positional_embedding_type", "\"standard\"", node => IsString(node, "standard"));
            Expect("attention_dir", "\"causal\"", node => IsString(node, "causal"));
            Expect("use_attn_scale", "true", node => IsBoolean(node, true));
            double scale = Math.Sqrt(dHead);
            Expect("attn_scale", $"-1 (unset) or √d_head = {scale:R}",
                node => Number(node) is double value && (value == -1 || Math.Abs(value - scale) <= 1e-6 * scale));
            Expect("eps", "1e-05", node => Number(node) is double value && Math.Abs(value - 1e-5) <= 1e-12);
            Expect("n_key_value_heads", $"null or n_heads = {nHeads}", node => node is null || Number(node) == nHeads);
            foreach (var key in new[] { "use_local_attn", "scale_attn_by_inverse_layer_idx", "final_rms", "gated_mlp", "parallel_attn_mlp",
                                        "post_embedding_ln", "use_normalization_before_and_after", "load_in_4bit" })
                Expect(key, "false", node => IsBoolean(node, false));
            Expect("num_experts", "null", node => node is null);
            foreach (var key in new[] { "attn_scores_soft_cap", "output_logits_soft_cap" })
                Expect(key, "a value ≤ 0 (no soft cap)", node => Number(node) is double value && value <= 0);
        }

        void Expect(string key, string supported, Func<JsonNode?, bool> accepts)
        {
            if (Has(key, out var node) && !accepts(node))
                throw Error($"{key} {Show(node)} is not supported (Forge computes only {supported})");
        }

        static bool IsString(JsonNode? node, string expected) => node is JsonValue value && value.TryGetValue(out string? text) && text == expected;
        static bool IsBoolean(JsonNode? node, bool expected) => node is JsonValue value && value.TryGetValue(out bool flag) && flag == expected;
        static double? Number(JsonNode? node) =>
            node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double number) ? number : null;
    }
}
