using Forge.Autograd;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

public class CircuitsTests
{
    static readonly TransformerConfig AttentionOnly = new()
    {
        NLayers = 2, NHeads = 2, DModel = 8, DHead = 3, DMlp = null, NCtx = 6, DVocab = 9, DVocabOut = 9,
    };

    static Transformer<double> RandomModel()
    {
        var model = new Transformer<double>(AttentionOnly, Initialization.Sorting, new Rng(21));
        var rng = new Rng(22);
        foreach (var p in model.Parameters.All.Where(p => p.Name!.Contains("ln") || p.Name!.Contains(".b_")))
            Tensor.Normal(rng, p.Name!.EndsWith(".w") ? 1.0 : 0.0, 0.3, p.Shape).AsSpan().CopyTo(p.Data.AsSpan());
        return model;
    }

    static double[] LogSoftmax(Transformer<double> model, Tensor<int> tokens)
    {
        using (GradMode.NoGrad())
        {
            var logits = model.Forward(tokens);
            var lse = (logits - logits.Max(-1, keepDim: true)).Exp().Sum(-1, keepDim: true).Log() + logits.Max(-1, keepDim: true);
            return (logits - lse).Data.ToArray();
        }
    }

    [Test]
    public void FoldedWeightsInAModelWithIdentityLayerNormsGiveTheSamePredictions()
    {
        var model = RandomModel();
        var folded = Circuits.Of(model);
        var copy = new Transformer<double>(AttentionOnly, Initialization.Sorting, new Rng(0));
        foreach (var p in copy.Parameters.All)
        {
            string name = p.Name!;
            var target = p.Data.AsSpan();
            if (name.EndsWith(".w")) target.Fill(1);
            else if (name.Contains("ln") && name.EndsWith(".b")) target.Clear();
            else if (name.Contains(".W_Q") || name.Contains(".W_K") || name.Contains(".W_V") || name.Contains(".W_O"))
                for (int h = 0; h < 2; h++) Matrix.Flat(folded.Weight($"{name}.{h}")).CopyTo(target.Slice(h * target.Length / 2));
            else Matrix.Flat(folded.Weight(name)).CopyTo(target);
        }
        var tokens = TransformerTests.Tokens(new Rng(23), 3, 6, 9);
        Assert.That(LogSoftmax(copy, tokens), Is.EqualTo(LogSoftmax(model, tokens)).Within(1e-10));
    }

    [Test]
    public void CircuitsAreTheDocumentedProducts()
    {
        var model = RandomModel();
        var c = Circuits.Of(model, foldLayerNorm: false);
        var wq = model.Parameters["blocks.1.attn.W_Q"].Data;
        var wk = model.Parameters["blocks.1.attn.W_K"].Data;
        var we = model.Parameters["embed.W_E"].Data;
        // full QK[a, b] = Σ W_E[a, i] W_Q[h, i, e] W_K[h, j, e] W_E[b, j]
        int h = 1, a = 4, b = 7;
        double expected = 0;
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                for (int e = 0; e < 3; e++) expected += we[a, i] * wq[h, i, e] * wk[h, j, e] * we[b, j];
        Assert.That(c.FullQK(1, h)[a, b], Is.EqualTo(expected).Within(1e-12));
        Assert.That(c.FullOV(0, 0).GetLength(0), Is.EqualTo(9));
        Assert.That(c.PositionalQK(0, 1).GetLength(0), Is.EqualTo(6));
        Assert.That(c.PositionalQK(0, 1).GetLength(1), Is.EqualTo(9));
        var ov = c.OV(0, 1);
        var direct = Matrix.Multiply(c.WV(0, 1), c.WO(0, 1));
        Assert.That(Matrix.Flat(ov).ToArray(), Is.EqualTo(Matrix.Flat(direct).ToArray()));
    }

    [Test]
    public void AContinuousModelsReadOutIsFoldedButNotCentred()
    {
        // One real output: centring over the "vocabulary" would zero it, and there is no softmax to allow it.
        var config = new TransformerConfig { NLayers = 1, NHeads = 2, DModel = 8, DHead = 4, DMlp = 16, NCtx = 5, DIn = 1, DVocab = 1, DVocabOut = 1 };
        var model = new Transformer<double>(config, Initialization.Gpt2, new Rng(23));
        var scale = model.Parameters["ln_final.w"].Data.AsSpan();
        Tensor.Normal(new Rng(24), 1.0, 0.3, [8]).AsSpan().CopyTo(scale);
        var folded = Circuits.Of(model).WU;
        var raw = model.Parameters["unembed.W_U"].Data.AsSpan();
        for (int i = 0; i < 8; i++)
            Assert.That(folded[i, 0], Is.EqualTo(scale[i] * raw[i]).Within(1e-15), $"row {i}: diag(w_LN)·W_U");
    }
}
