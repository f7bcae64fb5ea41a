using System.Numerics;
using Forge.Models.Transformers;

namespace Forge.Models.Interpretability;

/// <summary>
/// The 2-D weights of a transformer in double precision, per head split out, optionally with
/// LayerNorm folded in (see <see cref="Circuits"/> for the procedure). Keys: parameter names, with
/// <c>.h</c> appended for head h of W_Q/W_K/W_V/W_O; 1-D biases become [1, n] rows.
/// </summary>
public static class LayerNormFolding
{
    public static Dictionary<string, double[,]> Weights<T>(Transformer<T> model, bool fold) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var config = model.Config;
        double[,] Get(string name) => ToMatrix(model.Parameters[name].Data);
        var w = new Dictionary<string, double[,]>
        {
            ["embed.W_E"] = Get("embed.W_E"),
            ["pos_embed.W_pos"] = Get("pos_embed.W_pos"),
            ["unembed.W_U"] = Get("unembed.W_U"),
            ["unembed.b_U"] = Get("unembed.b_U"),
        };
        if (fold) { CentreRows(w["embed.W_E"]); CentreRows(w["pos_embed.W_pos"]); }
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            string p = $"blocks.{layer}.attn.";
            double[]? lnScale = fold ? Vector(model, $"blocks.{layer}.ln1.w") : null;
            double[]? lnBias = fold ? Vector(model, $"blocks.{layer}.ln1.b") : null;
            foreach (var kind in new[] { "Q", "K", "V" })
            {
                var weight = ToHeads(model.Parameters[p + "W_" + kind].Data);   // [head][d_model, d_head]
                var bias = Get(p + "b_" + kind);                                // [head, d_head]
                for (int h = 0; h < weight.Length; h++)
                {
                    if (fold) FoldIntoReader(weight[h], bias, h, lnScale!, lnBias!);
                    w[$"{p}W_{kind}.{h}"] = weight[h];
                }
                w[p + "b_" + kind] = bias;
            }
            var wO = ToHeads(model.Parameters[p + "W_O"].Data);                 // [head][d_head, d_model]
            for (int h = 0; h < wO.Length; h++)
            {
                if (fold) CentreRows(wO[h]);
                w[$"{p}W_O.{h}"] = wO[h];
            }
            var bO = Get(p + "b_O");
            if (fold) CentreRows(bO);
            w[p + "b_O"] = bO;
        }
        if (fold) FoldFinal(model, w["unembed.W_U"], w["unembed.b_U"]);
        return w;
    }

    /// <summary>W ← diag(w_LN)·W and b[h] ← b[h] + b_LN·W (with the original W).</summary>
    static void FoldIntoReader(double[,] weight, double[,] bias, int head, double[] lnScale, double[] lnBias)
    {
        for (int j = 0; j < weight.GetLength(1); j++)
        {
            double shift = 0;
            for (int i = 0; i < weight.GetLength(0); i++)
            {
                shift += lnBias[i] * weight[i, j];
                weight[i, j] *= lnScale[i];
            }
            bias[head, j] += shift;
        }
    }

    static void FoldFinal<T>(Transformer<T> model, double[,] wU, double[,] bU) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scale = Vector(model, "ln_final.w");
        var shift = Vector(model, "ln_final.b");
        for (int j = 0; j < wU.GetLength(1); j++)
        {
            for (int i = 0; i < wU.GetLength(0); i++)
            {
                bU[0, j] += shift[i] * wU[i, j];
                wU[i, j] *= scale[i];
            }
        }
        // Centre over the vocabulary: W_U is [d_model, vocab], so each row's mean over vocab goes. Only
        // for logits, which softmax reads up to a shared shift; a continuous model's outputs are the
        // prediction itself (with one output, centring would zero the read-out).
        if (model.Config.IsContinuous) return;
        CentreRows(wU);
        CentreRows(bU);
    }

    /// <summary>Subtracts each row's mean over its columns.</summary>
    static void CentreRows(double[,] m)
    {
        for (int i = 0; i < m.GetLength(0); i++)
        {
            double mean = 0;
            for (int j = 0; j < m.GetLength(1); j++) mean += m[i, j];
            mean /= m.GetLength(1);
            for (int j = 0; j < m.GetLength(1); j++) m[i, j] -= mean;
        }
    }

    static double[] Vector<T>(Transformer<T> model, string name) where T : unmanaged, IFloatingPointIeee754<T> =>
        model.Parameters[name].Data.ToArray().Select(v => double.CreateChecked(v)).ToArray();

    static double[,] ToMatrix<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T> =>
        Matrix.FromTensor(t.Rank == 1 ? t.Reshape(1, t.Length) : t);

    static double[][,] ToHeads<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T> =>
        Enumerable.Range(0, t.Size(0)).Select(h => Matrix.FromTensor(t.Select(0, h))).ToArray();
}
