using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

public class TransformerTests
{
    internal static readonly TransformerConfig Sorting = new()
    {
        NLayers = 1, NHeads = 2, DModel = 96, DHead = 48, DMlp = null, NCtx = 21, DVocab = 52, DVocabOut = 52,
    };

    internal static readonly TransformerConfig Gpt = new()
    {
        NLayers = 2, NHeads = 3, DModel = 12, DHead = 4, DMlp = 20, NCtx = 8, DVocab = 11, DVocabOut = 11,
    };

    internal static Tensor<int> Tokens(Rng rng, int batch, int positions, int vocab)
    {
        var ids = new int[batch * positions];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(vocab);
        return Tensor.FromArray(ids, [batch, positions]);
    }

    [Test]
    public void SortingModelHasThePapersParameterCountAndNames()
    {
        var model = new Transformer<float>(Sorting, Initialization.Sorting, new Rng(0));
        // ≈49.7k in the spec: embeddings 52·96 + 21·96, Q/K/V/O 4·96·96 + biases, 2 LNs, unembed 96·52 + 52.
        Assert.That(model.Parameters.ElementCount, Is.EqualTo(52 * 96 + 21 * 96 + 4 * 96 * 96 + 3 * 96 + 96 + 4 * 96 + 96 * 52 + 52));
        Assert.That(model.Parameters.All.Select(p => p.Name), Is.EquivalentTo(new[]
        {
            "embed.W_E", "pos_embed.W_pos", "blocks.0.ln1.w", "blocks.0.ln1.b", "blocks.0.attn.W_Q", "blocks.0.attn.W_K",
            "blocks.0.attn.W_V", "blocks.0.attn.W_O", "blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V",
            "blocks.0.attn.b_O", "ln_final.w", "ln_final.b", "unembed.W_U", "unembed.b_U",
        }));
        Assert.That(model.Parameters["blocks.0.attn.W_Q"].Shape, Is.EqualTo(new[] { 2, 96, 48 }));
        Assert.That(model.Parameters["blocks.0.attn.W_O"].Shape, Is.EqualTo(new[] { 2, 48, 96 }));
        var wq = model.Parameters["blocks.0.attn.W_Q"].Data.ToArray();
        double std = Math.Sqrt(wq.Select(v => (double)v * v).Average());
        Assert.That(std, Is.EqualTo(0.8 / Math.Sqrt(96)).Within(0.003));
    }

    [Test]
    public void Gpt2InitAndConfigWithoutLayerNorm()
    {
        var model = new Transformer<float>(Gpt with { Normalization = "none" }, Initialization.Gpt2, new Rng(0));
        Assert.That(model.Parameters.Contains("blocks.0.ln1.w"), Is.False);
        Assert.That(model.Parameters.Contains("blocks.1.mlp.W_in"), Is.True);
        var wIn = model.Parameters["blocks.1.mlp.W_in"].Data.ToArray();
        Assert.That(Math.Sqrt(wIn.Select(v => (double)v * v).Average()), Is.EqualTo(0.02).Within(0.004));
    }

    [Test]
    public void EveryHookPointHasItsConventionalShape()
    {
        var model = new Transformer<float>(Gpt, Initialization.Gpt2, new Rng(1));
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>() };
        var logits = model.Forward(Tokens(new Rng(2), 5, 7, 11), hooks);
        Assert.That(logits.Shape, Is.EqualTo(new[] { 5, 7, 11 }));
        var cache = hooks.Cache;
        int[] Residual = [5, 7, 12], Heads = [5, 7, 3, 4], Square = [5, 3, 7, 7];
        Assert.That(cache[HookNames.Embed].Shape, Is.EqualTo(Residual));
        Assert.That(cache[HookNames.PosEmbed].Shape, Is.EqualTo(Residual));
        Assert.That(cache[HookNames.FinalNormalized].Shape, Is.EqualTo(Residual));
        for (int l = 0; l < 2; l++)
        {
            foreach (var name in new[] { HookNames.ResidPre(l), HookNames.Ln1Normalized(l), HookNames.AttnOut(l), HookNames.ResidMid(l), HookNames.Ln2Normalized(l), HookNames.MlpOut(l), HookNames.ResidPost(l) })
                Assert.That(cache[name].Shape, Is.EqualTo(Residual), name);
            foreach (var name in new[] { HookNames.Q(l), HookNames.K(l), HookNames.V(l), HookNames.Z(l) })
                Assert.That(cache[name].Shape, Is.EqualTo(Heads), name);
            Assert.That(cache[HookNames.AttnScores(l)].Shape, Is.EqualTo(Square));
            Assert.That(cache[HookNames.Pattern(l)].Shape, Is.EqualTo(Square));
            Assert.That(cache[HookNames.Result(l)].Shape, Is.EqualTo(new[] { 5, 7, 3, 12 }));
            Assert.That(cache[HookNames.MlpPre(l)].Shape, Is.EqualTo(new[] { 5, 7, 20 }));
            Assert.That(cache[HookNames.MlpPost(l)].Shape, Is.EqualTo(new[] { 5, 7, 20 }));
        }
        Assert.That(cache.Names.Count(), Is.EqualTo(3 + 2 * 16));
    }

    [Test]
    public void HookedRunsGiveTheSameLogitsAsThePlainRun()
    {
        var model = new Transformer<double>(Gpt, Initialization.Gpt2, new Rng(3));
        var tokens = Tokens(new Rng(4), 3, 8, 11);
        var plain = model.Forward(tokens).Data.ToArray();
        var cached = model.Forward(tokens, new HookSet<double> { Cache = new ActivationCache<double>() }).Data.ToArray();
        var unfused = model.Forward(tokens, new HookSet<double> { CacheGradients = true }).Data.ToArray();
        Assert.That(cached, Is.EqualTo(plain).Within(1e-12));
        Assert.That(unfused, Is.EqualTo(plain).Within(1e-12));
    }

    [Test]
    public void ResidualStreamDecomposes()
    {
        var model = new Transformer<double>(Gpt, Initialization.Gpt2, new Rng(5));
        var hooks = new HookSet<double> { Cache = new ActivationCache<double>() };
        model.Forward(Tokens(new Rng(6), 2, 6, 11), hooks);
        var c = hooks.Cache!;
        AssertSum(c[HookNames.ResidPre(0)], c[HookNames.Embed], c[HookNames.PosEmbed]);
        AssertSum(c[HookNames.ResidMid(1)], c[HookNames.ResidPre(1)], c[HookNames.AttnOut(1)]);
        AssertSum(c[HookNames.ResidPost(1)], c[HookNames.ResidMid(1)], c[HookNames.MlpOut(1)]);
        // attn_out = Σ_h result_h + b_O
        var result = c[HookNames.Result(0)].ToArray();
        var attnOut = c[HookNames.AttnOut(0)].ToArray();
        var bO = model.Parameters["blocks.0.attn.b_O"].Data.ToArray();
        for (int row = 0; row < 12; row++)
            for (int d = 0; d < 12; d++)
            {
                double sum = bO[d];
                for (int h = 0; h < 3; h++) sum += result[(row * 3 + h) * 12 + d];
                Assert.That(attnOut[row * 12 + d], Is.EqualTo(sum).Within(1e-12));
            }
    }

    static void AssertSum(Tensor<double> total, Tensor<double> a, Tensor<double> b)
    {
        var (t, x, y) = (total.ToArray(), a.ToArray(), b.ToArray());
        for (int i = 0; i < t.Length; i++) Assert.That(t[i], Is.EqualTo(x[i] + y[i]).Within(1e-12));
    }

    [Test]
    public void ContinuousModelReadsVectors()
    {
        var config = Gpt with { DIn = 1, DVocabOut = 1 };
        var model = new Transformer<float>(config, Initialization.Gpt2, new Rng(7));
        Assert.That(model.Parameters["embed.W_E"].Shape, Is.EqualTo(new[] { 1, 12 }));
        var output = model.Forward(Tensor.Normal(new Rng(8), 0f, 1f, 4, 8, 1));
        Assert.That(output.Shape, Is.EqualTo(new[] { 4, 8, 1 }));
        Assert.Throws<InvalidOperationException>(() => model.Forward(Tokens(new Rng(1), 1, 2, 3)));
        Assert.That(Assert.Throws<ShapeException>(() => model.Forward(Tensor.Zeros<float>(1, 9, 1)))!.Message, Does.Contain("n_ctx"));
    }

    [Test]
    public void ConfigJsonUsesTheConventionsKeysAndRoundTrips()
    {
        var json = Gpt.ToJson();
        foreach (var key in new[] { "\"n_layers\":2", "\"n_heads\":3", "\"d_model\":12", "\"d_head\":4", "\"d_mlp\":20", "\"n_ctx\":8", "\"d_vocab\":11", "\"d_vocab_out\":11", "\"d_in\":null", "\"normalization\":\"LN\"", "\"act_fn\":\"gelu_new\"" })
            Assert.That(json, Does.Contain(key));
        Assert.That(TransformerConfig.FromJson(json), Is.EqualTo(Gpt));
        Assert.That(TransformerConfig.FromJson(Sorting.ToJson()).DMlp, Is.Null);
        Assert.That(Assert.Throws<ArgumentException>(() => TransformerConfig.FromJson("{\"n_layers\": 1}"))!.Message, Does.Contain("n_heads"));
        Assert.That(Assert.Throws<ArgumentException>(() => TransformerConfig.FromJson(Gpt.ToJson().Replace("\"LN\"", "\"RMS\"")))!.Message, Does.Contain("RMS"));
    }
}
