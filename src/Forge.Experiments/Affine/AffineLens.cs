using System.Text.Json.Nodes;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// The lens at one point of the residual stream: how its read-out LN(r)·W_U + b_U at position n follows
/// x_n (copying) and x_{n+1} (the answer). Pooled numbers use positions ≥ <see cref="AffineTokens.FirstDeterminedPosition"/>.
/// </summary>
/// <param name="Name">"embed" (embedding + positions), "L0 attn" (after layer 0's attention), "L0" (after layer 0), …</param>
/// <param name="OnCurrent">Read-out regressed on x_n.</param>
/// <param name="OnNext">Read-out regressed on x_{n+1}.</param>
/// <param name="Joint">Read-out regressed on x_n and x_{n+1} together: the weight each gets once the other is accounted for.</param>
/// <param name="MseToNext">Mean squared difference of the read-out and x_{n+1}.</param>
public sealed record LensStage(string Name, string Hook, LinearFit OnCurrent, LinearFit OnNext, TwoRegressorFit Joint, double MseToNext,
    double[] RSquaredOnCurrentByPosition, double[] RSquaredOnNextByPosition, double[] MseToNextByPosition)
{
    public JsonObject ToJson() => new()
    {
        ["hook"] = Hook,
        ["r2_current"] = AffineFormat.Number(OnCurrent.RSquared), ["slope_current"] = AffineFormat.Number(OnCurrent.Slope),
        ["intercept_current"] = AffineFormat.Number(OnCurrent.Intercept),
        ["r2_next"] = AffineFormat.Number(OnNext.RSquared), ["slope_next"] = AffineFormat.Number(OnNext.Slope),
        ["intercept_next"] = AffineFormat.Number(OnNext.Intercept),
        ["joint_weight_current"] = AffineFormat.Number(Joint.W1), ["joint_weight_next"] = AffineFormat.Number(Joint.W2),
        ["joint_r2"] = AffineFormat.Number(Joint.RSquared),
        ["mse_next"] = AffineFormat.Number(MseToNext),
        ["r2_current_by_position"] = AffineFormat.Numbers(RSquaredOnCurrentByPosition),
        ["r2_next_by_position"] = AffineFormat.Numbers(RSquaredOnNextByPosition),
        ["mse_next_by_position"] = AffineFormat.Numbers(MseToNextByPosition),
    };
}

/// <summary>The lens at every stage, with copy-last's per-position MSE for scale.</summary>
public sealed record AffineLensResult(IReadOnlyList<LensStage> Stages, double[] CopyLastMseByPosition)
{
    public LensStage Stage(string name) => Stages.FirstOrDefault(s => s.Name == name)
        ?? throw new KeyNotFoundException($"AffineLens: no stage '{name}' (stages: {string.Join(", ", Stages.Select(s => s.Name))})");

    /// <summary>analysis.json's "lens": the stage names in order, and per stage its fits and curves.</summary>
    public JsonObject AnalysisNumbers()
    {
        var byStage = new JsonObject();
        foreach (var stage in Stages) byStage[stage.Name] = stage.ToJson();
        return new JsonObject
        {
            ["pooled_from_position"] = AffineTokens.FirstDeterminedPosition,
            ["stages"] = new JsonArray(Stages.Select(s => (JsonNode?)s.Name).ToArray()),
            ["by_stage"] = byStage,
            ["copy_last_mse_by_position"] = AffineFormat.Numbers(CopyLastMseByPosition),
        };
    }

    /// <summary>The "Lens" section of report.md, with its figures written into the run folder.</summary>
    public void Report(ReportBuilder report, RunFolder folder)
    {
        string r2 = folder.FigurePath("lens_r2.png"), mse = folder.FigurePath("lens_mse.png"), r2ByPosition = folder.FigurePath("lens_r2_by_position.png");
        var names = Stages.Select(s => s.Name).ToArray();
        Figures.Bars(r2, names,
            [new BarSeries("R² on x_n", Stages.Select(s => s.OnCurrent.RSquared).ToArray()),
             new BarSeries("R² on x_{n+1}", Stages.Select(s => s.OnNext.RSquared).ToArray())],
            $"Lens read-out regressed on x_n and on x_{{n+1}} (positions ≥ {AffineTokens.FirstDeterminedPosition})", "R²", "residual stream after");
        var positions = AffineFormat.PositionAxis(CopyLastMseByPosition.Length);
        Figures.Lines(mse,
            [.. Stages.Select(s => new Series(s.Name, positions, s.MseToNextByPosition)), new Series("copy-last", positions, CopyLastMseByPosition)],
            "Lens MSE to x_{n+1} per position", "position n", "mean squared error", logY: true);
        Figures.Lines(r2ByPosition, Stages.Select(s => new Series(s.Name, positions, s.RSquaredOnNextByPosition)).ToList(),
            "Lens R² on x_{n+1} per position", "position n", "R²");

        report.Heading("Lens: the final LayerNorm and read-out applied after each layer")
            .Paragraph("The frozen ln_final, W_U and b_U read out the residual stream after the embedding (embed + positions), after each layer's " +
                       "attention (\"Lk attn\", resid_mid) and after each whole layer (\"Lk\", resid_post); the last stage is the model's prediction. " +
                       $"Each read-out is regressed on x_n (copying) and on x_{{n+1}} (the answer), pooled over positions ≥ {AffineTokens.FirstDeterminedPosition}; " +
                       "the joint fit gives the weight on each once the other is accounted for. " + Finding())
            .Table(["stage", "R² on x_n", "slope", "R² on x_{n+1}", "slope", "joint weight x_n", "joint weight x_{n+1}", "MSE to x_{n+1}"],
                Stages.Select(s => (IReadOnlyList<object?>)[s.Name, AffineFormat.F(s.OnCurrent.RSquared), AffineFormat.F(s.OnCurrent.Slope),
                    AffineFormat.F(s.OnNext.RSquared), AffineFormat.F(s.OnNext.Slope), AffineFormat.F(s.Joint.W1), AffineFormat.F(s.Joint.W2), AffineFormat.E(s.MseToNext)]))
            .Figure(r2, "Lens R² on x_n and x_{n+1} per stage")
            .Figure(mse, "Lens MSE to x_{n+1} per stage and position, with copy-last")
            .Figure(r2ByPosition, "Lens R² on x_{n+1} per stage and position");
    }

    /// <summary>One sentence from the numbers: what the lens follows after layer 0 and at the end.</summary>
    string Finding()
    {
        var afterFirst = Stages.FirstOrDefault(s => s.Name == "L0") ?? Stages[0];
        var last = Stages[^1];
        string Follows(LensStage s) => s.OnCurrent.RSquared >= s.OnNext.RSquared ? "x_n more closely than x_{n+1}" : "x_{n+1} more closely than x_n";
        return $"After {afterFirst.Name} the read-out follows {Follows(afterFirst)} (R² {AffineFormat.F(afterFirst.OnCurrent.RSquared)} vs " +
               $"{AffineFormat.F(afterFirst.OnNext.RSquared)}, slope on x_n {AffineFormat.F(afterFirst.OnCurrent.Slope)}); at the end ({last.Name}) " +
               $"{Follows(last)} (R² {AffineFormat.F(last.OnCurrent.RSquared)} vs {AffineFormat.F(last.OnNext.RSquared)}).";
    }
}

/// <summary>
/// The lens read-out (the frozen final LayerNorm and read-out, <see cref="AffineReadout"/>) applied to the
/// residual stream after the embedding and after every layer (optionally also after every attention
/// half) on the held-out sequences, regressed on x_n and x_{n+1}: the paper's layer 0 should leave an
/// estimate that copies x_n, the last layer x_{n+1}.
/// </summary>
public static class AffineLens
{
    /// <summary>The stages read, in order: (name, hook). The embedding is layer 0's resid_pre.</summary>
    public static IReadOnlyList<(string Name, string Hook)> Stages(TransformerConfig config, bool includeAttentionHalf = true)
    {
        var stages = new List<(string, string)> { ("embed", HookNames.ResidPre(0)) };
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            if (includeAttentionHalf && config.HasMlp) stages.Add(($"L{layer} attn", HookNames.ResidMid(layer)));
            stages.Add(($"L{layer}", HookNames.ResidPost(layer)));
        }
        return stages;
    }

    public static AffineLensResult Measure(Transformer<float> model, AffineTestSet test, bool includeAttentionHalf = true)
    {
        var stages = Stages(model.Config, includeAttentionHalf);
        var readouts = Readouts(model, test, stages);
        var tokens = new AffineTokens(test);
        var pooled = tokens.Pooled("all");
        var atPosition = Enumerable.Range(0, tokens.Positions).Select(tokens.AtPosition).ToArray();
        var results = stages.Select((stage, s) =>
        {
            var y = readouts[s];
            return new LensStage(stage.Name, stage.Hook,
                LinearFit.Of(tokens.Current, y, pooled), LinearFit.Of(tokens.Next, y, pooled),
                TwoRegressorFit.Of(tokens.Current, tokens.Next, y, pooled), MeanSquaredDifference(y, tokens.Next, pooled),
                atPosition.Select(mask => LinearFit.Of(tokens.Current, y, mask).RSquared).ToArray(),
                atPosition.Select(mask => LinearFit.Of(tokens.Next, y, mask).RSquared).ToArray(),
                atPosition.Select(mask => MeanSquaredDifference(y, tokens.Next, mask)).ToArray());
        }).ToList();
        return new AffineLensResult(results, test.BaselineMsePerPosition(AffineTask.CopyLast));
    }

    /// <summary>The lens read-out at each stage for every token: [stage][token], token = sequence·positions + position.</summary>
    public static double[][] Readouts(Transformer<float> model, AffineTestSet test, IReadOnlyList<(string Name, string Hook)> stages)
    {
        model = AffineForward.OnCpu(model);
        var readout = new AffineReadout(model);
        int positions = test.Positions, dModel = model.Config.DModel;
        var result = stages.Select(_ => new double[test.Count * positions]).ToArray();
        var hooks = stages.Select(s => s.Hook).ToArray();
        AffineForward.Run(model, test.Inputs, positions, (_, _) => AffineForward.Recording(hooks), batch =>
        {
            for (int s = 0; s < stages.Count; s++)
            {
                var residual = batch.Cache![stages[s].Hook].ToArray();   // [rows, positions, d_model]
                for (int token = 0; token < batch.Rows * positions; token++)
                    result[s][batch.Start * positions + token] = readout.Lens(residual.AsSpan(token * dModel, dModel));
            }
        });
        return result;
    }

    static double MeanSquaredDifference(double[] a, double[] b, bool[] include)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!include[i]) continue;
            sum += (a[i] - b[i]) * (a[i] - b[i]);
            count++;
        }
        return count == 0 ? double.NaN : sum / count;
    }
}
