using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// A component's direct contribution c to the prediction over one group of tokens (positions ≥
/// <see cref="AffineTokens.FirstDeterminedPosition"/>): its size, Pearson correlations with x_n, with x_{n−1}, with the
/// correction x_{n+1} − x_n and with x_{n+1}, and the MSE increase when only c is taken out of the
/// prediction (the direct path removed, the LayerNorm divisor and every later layer left as they were).
/// </summary>
public sealed record ContributionStats(string Group, double MeanAbs, double CorrelationCurrent, double CorrelationPrevious,
    double CorrelationCorrection, double CorrelationNext, double DirectRemovalDeltaMse)
{
    public JsonObject ToJson() => new()
    {
        ["mean_abs"] = AffineFormat.Number(MeanAbs),
        ["corr_current"] = AffineFormat.Number(CorrelationCurrent),
        ["corr_previous"] = AffineFormat.Number(CorrelationPrevious),
        ["corr_correction"] = AffineFormat.Number(CorrelationCorrection),
        ["corr_next"] = AffineFormat.Number(CorrelationNext),
        ["direct_removal_delta_mse"] = AffineFormat.Number(DirectRemovalDeltaMse),
    };
}

/// <summary>One component of the final residual stream and its contribution per sign group.</summary>
/// <param name="Name">"L0H1" (a head), "L0 MLP", "L0 b_O" (attention output bias), "embed", "pos".</param>
/// <param name="Kind">"head", "mlp", "attn_bias", "embed" or "pos".</param>
public sealed record ComponentContribution(string Name, string Kind, int? Layer, int? Head, IReadOnlyList<ContributionStats> Groups)
{
    public ContributionStats this[string group] => Groups.First(g => g.Group == group);
}

/// <summary>The direct contributions of every component, and how much of the prediction the fixed terms make.</summary>
/// <param name="LayerNormBiasTerm">b_ln·W_U: added to every prediction, like b_U.</param>
public sealed record AffineHeadContributionsResult(IReadOnlyList<ComponentContribution> Components, double LayerNormBiasTerm, double BiasU)
{
    public ComponentContribution Component(string name) => Components.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException($"AffineHeadContributions: no component '{name}'");

    public IEnumerable<ComponentContribution> Heads => Components.Where(c => c.Kind == "head");

    /// <summary>analysis.json's "head_contributions": per component (heads as "L0H1") its kind, layer, head, and per group ("all", "a_pos", "a_neg") its numbers.</summary>
    public JsonObject AnalysisNumbers()
    {
        var components = new JsonObject();
        foreach (var c in Components)
        {
            var entry = new JsonObject { ["kind"] = c.Kind, ["layer"] = c.Layer, ["head"] = c.Head };
            foreach (var g in c.Groups) entry[AffineFormat.GroupKey(g.Group)] = g.ToJson();
            components[c.Name] = entry;
        }
        return new JsonObject
        {
            ["pooled_from_position"] = AffineTokens.FirstDeterminedPosition,
            ["ln_bias_term"] = AffineFormat.Number(LayerNormBiasTerm), ["b_U"] = AffineFormat.Number(BiasU),
            ["components"] = components,
        };
    }

    /// <summary>The "Direct contributions" section of report.md, with its figures.</summary>
    public void Report(ReportBuilder report, RunFolder folder)
    {
        string correlations = folder.FigurePath("contribution_correlations.png"), sizes = folder.FigurePath("contribution_sizes.png");
        var shown = Components.Where(c => c.Kind is "head" or "mlp").ToList();
        var names = shown.Select(c => c.Name).ToArray();
        Figures.Bars(correlations, names,
            [new BarSeries("with x_n", shown.Select(c => c["all"].CorrelationCurrent).ToArray()),
             new BarSeries("with x_{n−1}", shown.Select(c => c["all"].CorrelationPrevious).ToArray()),
             new BarSeries("with x_{n+1} − x_n", shown.Select(c => c["all"].CorrelationCorrection).ToArray()),
             new BarSeries("with x_{n+1}", shown.Select(c => c["all"].CorrelationNext).ToArray())],
            "Correlation of each head's and MLP's direct contribution", "Pearson r", width: 1200);
        Figures.Bars(sizes, names,
            AffineTokens.SignGroups.Select(g => new BarSeries(g, shown.Select(c => c[g].MeanAbs).ToArray())).ToList(),
            "Mean |direct contribution| to the prediction", "mean |contribution|", width: 1200);
        report.Heading("Direct contributions of heads and MLPs")
            .Paragraph("Each component c of the final residual stream (a head's output z_h·W_O[h], an MLP's output, the attention bias b_O, the " +
                       "embedding, the positions) contributes ((c − mean(c))/σ)·(w_ln∘W_U) to the prediction, where σ is the final LayerNorm's " +
                       "divisor of the token's full final residual: LayerNorm linearised at the actual residual, so the contributions plus " +
                       "b_ln·W_U + b_U add up to the prediction exactly. Pooled over positions ≥ " +
                       $"{AffineTokens.FirstDeterminedPosition}. \"Removal ΔMSE\" takes only the component's direct contribution out of the prediction.")
            .Table(["component", "mean |c|", "r(c, x_n)", "r(c, x_{n−1})", "r(c, x_{n+1} − x_n)", "r(c, x_{n+1})", "r(c, correction) a > 0", "r(c, correction) a < 0",
                    "removal ΔMSE", "removal ΔMSE a > 0", "removal ΔMSE a < 0"],
                Components.Select(c => (IReadOnlyList<object?>)[c.Name, AffineFormat.F(c["all"].MeanAbs, 4), AffineFormat.F(c["all"].CorrelationCurrent),
                    AffineFormat.F(c["all"].CorrelationPrevious), AffineFormat.F(c["all"].CorrelationCorrection), AffineFormat.F(c["all"].CorrelationNext), AffineFormat.F(c["a > 0"].CorrelationCorrection),
                    AffineFormat.F(c["a < 0"].CorrelationCorrection), AffineFormat.E(c["all"].DirectRemovalDeltaMse),
                    AffineFormat.E(c["a > 0"].DirectRemovalDeltaMse), AffineFormat.E(c["a < 0"].DirectRemovalDeltaMse)]))
            .Figure(correlations, "Correlation of each head's and MLP's direct contribution with x_n, x_{n−1}, the correction and x_{n+1}")
            .Figure(sizes, "Mean |direct contribution| per head and MLP, by sign of a");
    }
}

/// <summary>Every component's direct contribution for every token: [component][token], with the model's prediction per token.</summary>
public sealed record TokenContributions(IReadOnlyList<(string Name, string Kind, int? Layer, int? Head)> Components, double[][] Values, double[] Predictions, AffineReadout Readout);

/// <summary>
/// Direct contribution of each head (hook_result), each MLP (hook_mlp_out), each attention bias, the
/// embedding and the positions to the prediction through the frozen final LayerNorm and read-out,
/// LayerNorm linearised at each token's actual final residual (<see cref="AffineReadout"/>):
/// contribution = ((c − mean(c))/σ(resid_final))·(w_ln∘W_U).
/// </summary>
public static class AffineHeadContributions
{
    public static AffineHeadContributionsResult Measure(Transformer<float> model, AffineTestSet test)
    {
        var perToken = PerToken(model, test);
        var tokens = new AffineTokens(test);
        var components = perToken.Components.Select((c, k) => new ComponentContribution(c.Name, c.Kind, c.Layer, c.Head,
            AffineTokens.SignGroups.Select(g => Stats(g, perToken.Values[k], perToken.Predictions, tokens)).ToList())).ToList();
        return new AffineHeadContributionsResult(components, perToken.Readout.LayerNormBiasTerm, perToken.Readout.BiasU);
    }

    /// <summary>The components of the final residual: embed, pos, then per layer its heads, its attention bias and its MLP.</summary>
    public static IReadOnlyList<(string Name, string Kind, int? Layer, int? Head)> Components(TransformerConfig config)
    {
        var list = new List<(string, string, int?, int?)> { ("embed", "embed", null, null), ("pos", "pos", null, null) };
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            for (int head = 0; head < config.NHeads; head++) list.Add((AffineFormat.HeadName(layer, head), "head", layer, head));
            list.Add(($"L{layer} b_O", "attn_bias", layer, null));
            if (config.HasMlp) list.Add(($"L{layer} MLP", "mlp", layer, null));
        }
        return list;
    }

    /// <summary>Each component's contribution per token and the model's prediction per token (a known-answer check: they add up, with b_ln·W_U + b_U).</summary>
    public static TokenContributions PerToken(Transformer<float> model, AffineTestSet test)
    {
        model = AffineForward.OnCpu(model);
        var config = model.Config;
        var readout = new AffineReadout(model);
        var components = Components(config);
        int positions = test.Positions, d = config.DModel, heads = config.NHeads, tokens = test.Count * positions;
        var values = components.Select(_ => new double[tokens]).ToArray();
        var predictions = new double[tokens];
        var attentionBias = model.Blocks.Select(b => b.Attention.BO.Data.ToArray()).ToArray();
        var recorded = new List<string> { HookNames.Embed, HookNames.PosEmbed, HookNames.ResidPost(config.NLayers - 1) };
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            recorded.Add(HookNames.Result(layer));
            if (config.HasMlp) recorded.Add(HookNames.MlpOut(layer));
        }
        AffineForward.Run(model, test.Inputs, positions, (_, _) => AffineForward.Recording([.. recorded]), batch =>
        {
            var cache = batch.Cache!;
            var final = cache[HookNames.ResidPost(config.NLayers - 1)].ToArray();   // [rows, positions, d_model]
            var embed = cache[HookNames.Embed].ToArray();
            var pos = cache[HookNames.PosEmbed].ToArray();
            var results = Enumerable.Range(0, config.NLayers).Select(l => cache[HookNames.Result(l)].ToArray()).ToArray();   // [rows, positions, head, d_model]
            var mlps = config.HasMlp ? Enumerable.Range(0, config.NLayers).Select(l => cache[HookNames.MlpOut(l)].ToArray()).ToArray() : null;
            for (int local = 0; local < batch.Rows * positions; local++)
            {
                int token = batch.Start * positions + local;
                double scale = readout.Scale(final.AsSpan(local * d, d));
                predictions[token] = batch.Outputs[local];
                int k = 0;
                values[k++][token] = readout.Contribution(embed.AsSpan(local * d, d), scale);
                values[k++][token] = readout.Contribution(pos.AsSpan(local * d, d), scale);
                for (int layer = 0; layer < config.NLayers; layer++)
                {
                    for (int head = 0; head < heads; head++)
                        values[k++][token] = readout.Contribution(results[layer].AsSpan((local * heads + head) * d, d), scale);
                    values[k++][token] = readout.Contribution(attentionBias[layer], scale);
                    if (mlps is not null) values[k++][token] = readout.Contribution(mlps[layer].AsSpan(local * d, d), scale);
                }
            }
        });
        return new TokenContributions(components, values, predictions, readout);
    }

    static ContributionStats Stats(string group, double[] contribution, double[] predictions, AffineTokens tokens)
    {
        var include = tokens.Pooled(group);
        double sumAbs = 0, deltaSquaredError = 0;
        int count = 0;
        for (int t = 0; t < contribution.Length; t++)
        {
            if (!include[t]) continue;
            count++;
            sumAbs += Math.Abs(contribution[t]);
            double error = predictions[t] - tokens.Next[t], removed = error - contribution[t];
            deltaSquaredError += removed * removed - error * error;
        }
        return new ContributionStats(group, count == 0 ? double.NaN : sumAbs / count,
            LinearFit.Of(tokens.Current, contribution, include).Correlation,
            LinearFit.Of(tokens.Previous, contribution, include).Correlation,
            LinearFit.Of(tokens.Correction, contribution, include).Correlation,
            LinearFit.Of(tokens.Next, contribution, include).Correlation,
            count == 0 ? double.NaN : deltaSquaredError / count);
    }
}
