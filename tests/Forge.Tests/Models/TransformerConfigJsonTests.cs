using System.Text.Json.Nodes;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;
using Forge.Tests.Peers;

namespace Forge.Tests.Models;

/// <summary>
/// Model configs written the way PyTorch users write them (TransformerLens's keys, 96.0 for 96, nulls)
/// load; everything Forge cannot honour is a one-line error naming the source and the key; Forge's own
/// configs load exactly as before.
/// </summary>
public class TransformerConfigJsonTests
{
    static readonly TransformerConfig Gpt = TransformerTests.Gpt;              // d_model 12, d_head 4, d_mlp 20, d_vocab 11
    static readonly TransformerConfig AttentionOnly = TransformerTests.Sorting; // d_mlp null

    static TransformerConfig Load(string json) => TransformerConfig.FromJson(json, "cfg.json");

    static string Error(string json) => Assert.Throws<ArgumentException>(() => Load(json))!.Message;

    /// <summary><paramref name="config"/>'s JSON with keys replaced (a null value writes JSON null) and <paramref name="remove"/> removed.</summary>
    static string Edit(TransformerConfig config, (string Key, string? Json)[] set, params string[] remove)
    {
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        foreach (var key in remove) json.Remove(key);
        foreach (var (key, value) in set) json[key] = value is null ? null : JsonNode.Parse(value);   // raw text: 12.0 stays 12.0
        return json.ToJsonString();
    }

    static string Set(TransformerConfig config, string key, string? json) => Edit(config, [(key, json)]);

    [Test]
    public void ForgesOwnConfigsRoundTripExactly()
    {
        foreach (var config in new[] { Gpt, AttentionOnly, PeerCase.NoNormalization.Config, PeerCase.Continuous.Config })
        {
            string json = config.ToJson();
            Assert.That(Load(json), Is.EqualTo(config), json);
            Assert.That(Load(json).ToJson(), Is.EqualTo(json), "and it is written back unchanged");
        }
        Assert.That(Gpt.ToJson(), Is.EqualTo(
            "{\"n_layers\":2,\"n_heads\":3,\"d_model\":12,\"d_head\":4,\"d_mlp\":20,\"n_ctx\":8,\"d_vocab\":11,\"d_vocab_out\":11,\"d_in\":null,\"normalization\":\"LN\",\"act_fn\":\"gelu_new\"}"),
            "the conventions' keys, unchanged");
    }

    [TestCase("12.0")]
    [TestCase("1.2e1")]
    [TestCase("12")]
    public void IntegralFloatsAreIntegers(string dModel) => Assert.That(Load(Set(Gpt, "d_model", dModel)), Is.EqualTo(Gpt));

    [TestCase("12.5", "cfg.json: key 'd_model' must be an integer, got 12.5")]
    [TestCase("\"12\"", "cfg.json: key 'd_model' must be an integer, got \"12\"")]
    [TestCase("true", "cfg.json: key 'd_model' must be an integer, got true")]
    [TestCase("1e10", "cfg.json: key 'd_model' is 1e10, beyond the largest supported value 2147483647")]
    [TestCase("null", "cfg.json: \"d_model\" is null; it must be a positive integer")]
    public void NonIntegersAreErrorsNamingTheKey(string dModel, string message) =>
        Assert.That(Error(Set(Gpt, "d_model", dModel == "null" ? null : dModel)), Is.EqualTo(message));

    [Test]
    public void AContinuousModelNeedsNoVocabulary()
    {
        var continuous = PeerCase.Continuous.Config;   // d_in 1, d_vocab 1, d_vocab_out 1
        Assert.That(Load(Set(continuous, "d_vocab", null)), Is.EqualTo(continuous), "null");
        Assert.That(Load(Edit(continuous, [], "d_vocab")), Is.EqualTo(continuous), "missing");
        Assert.That(Load(Set(continuous, "d_vocab", "-1")), Is.EqualTo(continuous), "TransformerLens's -1");
        var wider = continuous with { DIn = 3, DVocab = 3, DVocabOut = 2 };
        Assert.That(Load(Set(wider, "d_vocab", null)), Is.EqualTo(wider), "d_vocab becomes d_in");
        Assert.That(Error(Edit(wider, [("d_vocab", null)], "d_vocab_out")),
            Is.EqualTo("cfg.json: the model config has no \"d_vocab_out\"; a continuous model (d_in 3) needs its output width"));
        Assert.That(Error(Set(Gpt, "d_vocab", null)), Is.EqualTo("cfg.json: \"d_vocab\" is null; a token model (d_in null) needs its vocabulary size"));
        Assert.That(Error(Edit(Gpt, [], "d_vocab")), Is.EqualTo("cfg.json: the model config has no \"d_vocab\"; a token model (d_in null) needs its vocabulary size"));
    }

    [Test]
    public void DVocabOutDefaultsToDVocabAsInTransformerLens()
    {
        var narrower = Gpt with { DVocabOut = 5 };
        Assert.That(Load(Set(narrower, "d_vocab_out", "5")), Is.EqualTo(narrower));
        foreach (var unset in new[] { Edit(narrower, [], "d_vocab_out"), Set(narrower, "d_vocab_out", null), Set(narrower, "d_vocab_out", "-1") })
            Assert.That(Load(unset), Is.EqualTo(Gpt), unset);
    }

    [Test]
    public void ActFnNullIsFineWithoutAnMlpAndGeluPytorchTanhIsGeluNew()
    {
        Assert.That(Load(Set(AttentionOnly, "act_fn", null)), Is.EqualTo(AttentionOnly));
        Assert.That(Load(Edit(Gpt, [], "act_fn")), Is.EqualTo(Gpt), "missing: gelu_new, as before");
        Assert.That(Load(Set(Gpt, "act_fn", "\"gelu_pytorch_tanh\"")), Is.EqualTo(Gpt), "the same tanh approximation");
        const string supported = "Forge supports \"gelu_new\" (GPT-2's tanh approximation, also accepted as \"gelu_pytorch_tanh\")";
        Assert.That(Error(Set(Gpt, "act_fn", null)), Is.EqualTo($"cfg.json: act_fn is null but the model has an MLP (d_mlp 20); {supported}"));
        Assert.That(Error(Set(Gpt, "act_fn", "\"gelu\"")), Is.EqualTo($"cfg.json: act_fn \"gelu\" is not supported; {supported}"));
        Assert.That(Error(Set(AttentionOnly, "act_fn", "\"relu\"")), Does.Contain("act_fn \"relu\" is not supported"));
    }

    [Test]
    public void NormalizationTypeMapsLNAndNullAndRefusesTheRest()
    {
        var none = Gpt with { Normalization = "none" };
        Assert.That(Load(Edit(Gpt, [("normalization_type", "\"LN\"")], "normalization")), Is.EqualTo(Gpt));
        Assert.That(Load(Edit(Gpt, [("normalization_type", null)], "normalization")), Is.EqualTo(none));
        Assert.That(Load(Set(Gpt, "normalization_type", "\"LN\"")), Is.EqualTo(Gpt), "both keys, agreeing");
        Assert.That(Load(Set(Gpt, "normalization", null)), Is.EqualTo(none), "Forge's key: null is none too");
        foreach (var other in new[] { "LNPre", "RMS", "RMSPre" })
            Assert.That(Error(Edit(Gpt, [("normalization_type", $"\"{other}\"")], "normalization")),
                Is.EqualTo($"cfg.json: normalization_type \"{other}\" is not supported (Forge supports \"LN\" and null = no normalization)"));
        Assert.That(Error(Set(Gpt, "normalization_type", null)), Is.EqualTo("cfg.json: normalization \"LN\" and normalization_type null disagree"));
        Assert.That(Error(Set(Gpt, "normalization", "\"RMS\"")), Is.EqualTo("cfg.json: model config: normalization must be \"LN\" or \"none\", got \"RMS\""));
    }

    [Test]
    public void AttnOnlyMustAgreeWithDMlp()
    {
        Assert.That(Load(Set(AttentionOnly, "attn_only", "true")), Is.EqualTo(AttentionOnly));
        Assert.That(Load(Edit(AttentionOnly, [("attn_only", "true")], "d_mlp")), Is.EqualTo(AttentionOnly));
        Assert.That(Load(Set(Gpt, "attn_only", "false")), Is.EqualTo(Gpt));
        Assert.That(Error(Set(Gpt, "attn_only", "true")), Is.EqualTo("cfg.json: attn_only is true but d_mlp is 20; an attention-only model has d_mlp null"));
        Assert.That(Error(Set(AttentionOnly, "attn_only", "false")),
            Is.EqualTo("cfg.json: attn_only is false but d_mlp is null; give d_mlp (TransformerLens would take 4·d_model = 384)"));
        Assert.That(Error(Set(Gpt, "attn_only", "1")), Is.EqualTo("cfg.json: key 'attn_only' must be true or false, got 1"));
    }

    /// <summary>What TransformerLens's <c>json.dumps(cfg.to_dict(), default=str)</c> gives for <see cref="Gpt"/> (every key, defaults after __post_init__).</summary>
    internal const string TransformerLensDump = """
        {"n_layers": 2, "d_model": 12, "n_ctx": 8, "d_head": 4, "model_name": "custom", "n_heads": 3, "d_mlp": 20,
         "act_fn": "gelu_new", "d_vocab": 11, "eps": 1e-05, "use_attn_result": false, "use_attn_scale": true,
         "attn_scale": 2.0, "use_split_qkv_input": false, "use_hook_mlp_in": false, "use_attn_in": false,
         "use_local_attn": false, "ungroup_grouped_query_attention": false, "original_architecture": null,
         "from_checkpoint": false, "checkpoint_index": null, "checkpoint_label_type": null, "checkpoint_value": null,
         "tokenizer_name": null, "window_size": null, "attn_types": null, "init_mode": "gpt2", "normalization_type": "LN",
         "device": "cpu", "n_devices": 1, "attention_dir": "causal", "attn_only": false, "seed": 7,
         "initializer_range": 0.23094010767585033, "init_weights": true, "scale_attn_by_inverse_layer_idx": false,
         "positional_embedding_type": "standard", "final_rms": false, "d_vocab_out": 11, "parallel_attn_mlp": false,
         "rotary_dim": null, "n_params": 1344, "use_hook_tokens": false, "gated_mlp": false, "default_prepend_bos": true,
         "dtype": "torch.float32", "tokenizer_prepends_bos": null, "n_key_value_heads": null, "post_embedding_ln": false,
         "rotary_base": 10000, "trust_remote_code": false, "rotary_adjacent_pairs": false, "load_in_4bit": false,
         "num_experts": null, "experts_per_token": null, "relative_attention_max_distance": null,
         "relative_attention_num_buckets": null, "decoder_start_token_id": null, "tie_word_embeddings": false,
         "use_normalization_before_and_after": false, "attn_scores_soft_cap": -1.0, "output_logits_soft_cap": -1.0,
         "use_NTK_by_parts_rope": false, "NTK_by_parts_low_freq_factor": 1.0, "NTK_by_parts_high_freq_factor": 4.0,
         "NTK_by_parts_factor": 8.0}
        """;

    [Test]
    public void AWholeTransformerLensConfigLoads()
    {
        Assert.That(Load(TransformerLensDump), Is.EqualTo(Gpt));
        var keys = JsonNode.Parse(TransformerLensDump)!.AsObject().Select(pair => pair.Key).ToHashSet();
        var known = TransformerConfigReader.ForgeKeys.Concat(TransformerConfigReader.MappedKeys)
            .Concat(TransformerConfigReader.CheckedKeys).Concat(TransformerConfigReader.InertKeys).ToHashSet();
        Assert.That(known.Except(keys).Except(["normalization", "d_in"]), Is.Empty, "the dump above has every key the reader knows");
    }

    [Test]
    public void InertTransformerLensKeysAcceptAnyValue()
    {
        foreach (var key in TransformerConfigReader.InertKeys)
            foreach (var value in new[] { "null", "true", "3.5", "\"text\"", "[1, 2]" })
                Assert.That(Load(Set(Gpt, key, value == "null" ? null : value)), Is.EqualTo(Gpt), $"{key}: {value}");
    }

    [TestCase("positional_embedding_type", "\"rotary\"", "\"standard\"")]
    [TestCase("attention_dir", "\"bidirectional\"", "\"causal\"")]
    [TestCase("use_attn_scale", "false", "true")]
    [TestCase("attn_scale", "3.0", "-1 (unset) or √d_head = 2")]
    [TestCase("eps", "1e-06", "1e-05")]
    [TestCase("n_key_value_heads", "1", "null or n_heads = 3")]
    [TestCase("gated_mlp", "true", "false")]
    [TestCase("parallel_attn_mlp", "true", "false")]
    [TestCase("final_rms", "true", "false")]
    [TestCase("num_experts", "8", "null")]
    [TestCase("output_logits_soft_cap", "30.0", "a value ≤ 0 (no soft cap)")]
    public void TransformerLensSettingsThatChangeTheModelMustBeForges(string key, string value, string supported)
    {
        Assert.That(Error(Set(Gpt, key, value)), Is.EqualTo($"cfg.json: {key} {value} is not supported (Forge computes only {supported})"));
    }

    [Test]
    public void EveryCheckedKeyIsChecked()
    {
        foreach (var key in TransformerConfigReader.CheckedKeys)
            Assert.That(Error(Set(Gpt, key, "\"nonsense\"")), Does.StartWith($"cfg.json: {key} \"nonsense\" is not supported (Forge computes only "), key);
    }

    [Test]
    public void CheckedKeysAtForgesValuesLoad()
    {
        foreach (var (key, value) in new[] { ("attn_scale", "-1"), ("attn_scale", "2.0"), ("n_key_value_heads", "3"), ("n_key_value_heads", "null"), ("attn_scores_soft_cap", "0") })
            Assert.That(Load(Set(Gpt, key, value == "null" ? null : value)), Is.EqualTo(Gpt), $"{key}: {value}");
    }

    [Test]
    public void UnknownKeysAreErrorsNamingThem()
    {
        string message = Error(Set(Gpt, "n_layer", "2"));
        Assert.That(message, Does.StartWith("cfg.json: unknown model config key 'n_layer' (Forge's keys: n_layers, n_heads,"));
        Assert.That(message, Does.Not.Contain("\n"));
        Assert.That(Error(Set(Gpt, "init_range", "0.02")), Does.StartWith("cfg.json: unknown model config key 'init_range'"),
            "not a TransformerLens key (it is initializer_range)");
        Assert.That(Error(Gpt.ToJson().Replace("{", "{\"d_model\":7,")), Does.StartWith("cfg.json: the model config is not valid JSON (").And.Contain("d_model"),
            "a key given twice");
    }

    [Test]
    public void CheckpointErrorsNameTheCheckpointTheConfigSourceAndTheKey()
    {
        using var temp = new Experiments.TempFolder();
        var file = new SafeTensorsFile();
        file.Metadata["config"] = Set(Gpt, "d_head", "4.5");
        string checkpoint = temp.Combine("model.safetensors");
        SafeTensors.Write(checkpoint, file);
        Assert.That(Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(checkpoint))!.Message,
            Is.EqualTo($"Checkpoint '{checkpoint}': metadata 'config': key 'd_head' must be an integer, got 4.5"));
        string config = temp.Combine("cfg.json");
        File.WriteAllText(config, Set(Gpt, "normalization_type", "\"RMS\""));
        Assert.That(Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(checkpoint, config))!.Message,
            Is.EqualTo($"Checkpoint '{checkpoint}': config file '{config}': normalization_type \"RMS\" is not supported (Forge supports \"LN\" and null = no normalization)"));
    }
}
