using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Forge.Models.Transformers;

namespace Forge.Models.Checkpoints;

/// <summary>
/// GPT-2-family checkpoints in the common Hugging Face safetensors layout, converted to the conventions' names
/// (so a user's GPT-2 can be measured by Forge's tools). The layout: <c>wte.weight</c> [vocab, d], <c>wpe.weight</c>
/// [n_ctx, d], per block <c>h.{l}.ln_1.*</c>, <c>h.{l}.attn.c_attn.weight</c> [d, 3d] (Conv1D orientation: y = x·W + b,
/// columns q | k | v, each split into heads of d/n_head), <c>h.{l}.attn.c_proj.weight</c> [d, d], <c>h.{l}.ln_2.*</c>,
/// <c>h.{l}.mlp.c_fc.weight</c> [d, d_mlp], <c>h.{l}.mlp.c_proj.weight</c> [d_mlp, d], then <c>ln_f.*</c>; the unembedding
/// is tied to <c>wte</c> (<c>lm_head.weight</c>, when present, must equal it or is used as given). Names may carry
/// a <c>transformer.</c> prefix (GPT2LMHeadModel's state dict); the causal-mask buffers <c>attn.bias</c> /
/// <c>attn.masked_bias</c> of older files are ignored.
/// </summary>
public static class HuggingFaceGpt2
{
    /// <summary>
    /// The model held by <paramref name="file"/>; the head count comes from <paramref name="hfConfig"/> (Hugging Face's
    /// config.json: n_head, n_layer, n_embd, n_positions, vocab_size, activation_function, layer_norm_epsilon), or
    /// from <paramref name="heads"/> when there is no config file. Problems are <see cref="CheckpointException"/>s naming the file.
    /// </summary>
    public static Transformer<float> Load(SafeTensorsFile file, JsonObject? hfConfig, int? heads)
    {
        string prefix = file.Contains("transformer.wte.weight") ? "transformer." : "";
        string Name(string n) => prefix + n;
        if (!file.Contains(Name("wte.weight")) || !file.Contains(Name("wpe.weight")))
            throw new CheckpointException(file.Source, "is not a GPT-2 checkpoint in the Hugging Face layout (no wte.weight / wpe.weight)");
        var wte = file.GetFloat(Name("wte.weight"));
        var wpe = file.GetFloat(Name("wpe.weight"));
        int vocab = wte.Size(0), d = wte.Size(1), context = wpe.Size(0);
        int layers = 0;
        while (file.Contains(Name($"h.{layers}.attn.c_attn.weight"))) layers++;
        if (layers == 0) throw new CheckpointException(file.Source, "has no blocks (h.0.attn.c_attn.weight)");
        int nHeads = heads ?? Read(hfConfig, "n_head", file) ?? throw new CheckpointException(file.Source, "the head count is not in the file: give the model's config.json or the number of heads");
        if (hfConfig is not null)
        {
            Check(hfConfig, "n_layer", layers, file);
            Check(hfConfig, "n_embd", d, file);
            Check(hfConfig, "vocab_size", vocab, file);
            if (hfConfig["activation_function"] is JsonValue act && act.GetValue<string>() is not ("gelu_new" or "gelu_pytorch_tanh"))
                throw new CheckpointException(file.Source, $"activation '{act}' is not GPT-2's tanh GELU (gelu_new), the only one Forge's blocks compute");
            if (hfConfig["layer_norm_epsilon"] is JsonValue eps && Math.Abs(eps.GetValue<double>() - 1e-5) > 1e-12)
                throw new CheckpointException(file.Source, $"layer_norm_epsilon {eps} differs from Forge's 1e-5");
        }
        if (d % nHeads != 0) throw new CheckpointException(file.Source, $"n_embd {d} is not divisible by {nHeads} heads");
        int dHead = d / nHeads;
        int dMlp = file.GetEntry(Name("h.0.mlp.c_fc.weight")).Shape[1];
        var config = new TransformerConfig
        {
            NLayers = layers, NHeads = nHeads, DModel = d, DHead = dHead, DMlp = dMlp, NCtx = context, DVocab = vocab, DVocabOut = vocab, Normalization = "LN",
        };
        var model = new Transformer<float>(config, Initialization.Gpt2, new Rng(0));
        model.WE.Data.CopyFrom(wte);
        model.WPos.Data.CopyFrom(wpe);
        for (int l = 0; l < layers; l++)
        {
            var block = model.Blocks[l];
            string h = $"h.{l}.";
            block.Ln1.W!.Data.CopyFrom(file.GetFloat(Name(h + "ln_1.weight"), [d]));
            block.Ln1.B!.Data.CopyFrom(file.GetFloat(Name(h + "ln_1.bias"), [d]));
            var qkv = file.GetFloat(Name(h + "attn.c_attn.weight"), [d, 3 * d]).ToArray();
            var qkvBias = file.GetFloat(Name(h + "attn.c_attn.bias"), [3 * d]).ToArray();
            var attention = block.Attention;
            SplitHeads(qkv, qkvBias, 0, d, nHeads, dHead, attention.WQ.Data.AsSpan(), attention.BQ.Data.AsSpan());
            SplitHeads(qkv, qkvBias, 1, d, nHeads, dHead, attention.WK.Data.AsSpan(), attention.BK.Data.AsSpan());
            SplitHeads(qkv, qkvBias, 2, d, nHeads, dHead, attention.WV.Data.AsSpan(), attention.BV.Data.AsSpan());
            // c_proj [d, d]: rows h·d_head … (h+1)·d_head are head h's W_O [d_head, d] — the same memory order as [n_heads, d_head, d].
            attention.WO.Data.CopyFrom(file.GetFloat(Name(h + "attn.c_proj.weight"), [d, d]).Reshape(nHeads, dHead, d));
            attention.BO.Data.CopyFrom(file.GetFloat(Name(h + "attn.c_proj.bias"), [d]));
            block.Ln2!.W!.Data.CopyFrom(file.GetFloat(Name(h + "ln_2.weight"), [d]));
            block.Ln2.B!.Data.CopyFrom(file.GetFloat(Name(h + "ln_2.bias"), [d]));
            block.Mlp!.WIn.Data.CopyFrom(file.GetFloat(Name(h + "mlp.c_fc.weight"), [d, dMlp]));
            block.Mlp.BIn.Data.CopyFrom(file.GetFloat(Name(h + "mlp.c_fc.bias"), [dMlp]));
            block.Mlp.WOut.Data.CopyFrom(file.GetFloat(Name(h + "mlp.c_proj.weight"), [dMlp, d]));
            block.Mlp.BOut.Data.CopyFrom(file.GetFloat(Name(h + "mlp.c_proj.bias"), [d]));
        }
        model.LnFinal.W!.Data.CopyFrom(file.GetFloat(Name("ln_f.weight"), [d]));
        model.LnFinal.B!.Data.CopyFrom(file.GetFloat(Name("ln_f.bias"), [d]));
        // The unembedding: lm_head [vocab, d] when the file has one, else wte (tied), transposed to W_U [d, vocab]; GPT-2 has no output bias.
        var head = file.Contains("lm_head.weight") ? file.GetFloat("lm_head.weight", [vocab, d]) : wte;
        model.WU.Data.CopyFrom(head.Transpose(0, 1).Contiguous());
        model.BU.Data.AsSpan().Clear();
        return model;
    }

    /// <summary>Columns part·d … (part+1)·d of c_attn ([d, 3d] row-major) into W [n_heads, d, d_head] and b [n_heads, d_head].</summary>
    static void SplitHeads(float[] qkv, float[] bias, int part, int d, int heads, int dHead, Span<float> weight, Span<float> b)
    {
        for (int h = 0; h < heads; h++)
            for (int c = 0; c < dHead; c++)
            {
                int column = part * d + h * dHead + c;
                for (int row = 0; row < d; row++) weight[(h * d + row) * dHead + c] = qkv[row * 3 * d + column];
                b[h * dHead + c] = bias[column];
            }
    }

    static int? Read(JsonObject? config, string key, SafeTensorsFile file)
    {
        if (config?[key] is not JsonValue value) return null;
        try { return value.GetValue<int>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new CheckpointException(file.Source, $"config key '{key}' is not a whole number");
        }
    }

    static void Check(JsonObject config, string key, int actual, SafeTensorsFile file)
    {
        if (Read(config, key, file) is int stated && stated != actual)
            throw new CheckpointException(file.Source, $"config says {key} = {stated.ToString(CultureInfo.InvariantCulture)}, the tensors say {actual.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Hugging Face's config.json; an unreadable file is a <see cref="CheckpointException"/>.</summary>
    public static JsonObject ReadConfig(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CheckpointException(path, "is not a JSON object"); }
        catch (JsonException e) { throw new CheckpointException(path, $"is not valid JSON ({e.Message})"); }
        catch (IOException e) { throw new CheckpointException(path, e.Message); }
    }
}
