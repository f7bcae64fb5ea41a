using System.Text.Json.Nodes;
using Forge.Autograd;
using Forge.Experiments.Plotting;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// One intervention's test MSE on one group of sequences: per position, its change from the clean model,
/// the change pooled over positions ≥ <see cref="AffineTokens.FirstDeterminedPosition"/>, and how far it
/// moved the error toward copy-last's: Σ_{n≥2}(MSE − clean)/Σ_{n≥2}(copy-last − clean) (0: no change,
/// 1: as bad as copying x_n, above 1: worse).
/// </summary>
public sealed record InterventionGroup(string Group, double[] Mse, double[] DeltaMse, double PooledDeltaMse, double TowardCopyLast)
{
    public JsonObject ToJson() => new()
    {
        ["pooled_delta_mse"] = AffineFormat.Number(PooledDeltaMse),
        ["toward_copy_last"] = AffineFormat.Number(TowardCopyLast),
        ["delta_mse_by_position"] = AffineFormat.Numbers(DeltaMse),
        ["mse_by_position"] = AffineFormat.Numbers(Mse),
    };
}

/// <summary>One intervention (kind "zero", "mean" or "patch") on one target ("L0H1", "L0 MLP", "L0 attn"), per sign group.</summary>
public sealed record InterventionEffect(string Target, string Kind, int Layer, int? Head, IReadOnlyList<InterventionGroup> Groups)
{
    public InterventionGroup this[string group] => Groups.First(g => g.Group == group);
}

/// <summary>The clean model's per-position MSE (with copy-last and the oracle) per sign group, and every intervention's effect.</summary>
public sealed record AffineAblationsResult(IReadOnlyList<PositionMse> Clean, IReadOnlyList<InterventionEffect> Effects)
{
    public InterventionEffect Effect(string target, string kind) => Effects.FirstOrDefault(e => e.Target == target && e.Kind == kind)
        ?? throw new KeyNotFoundException($"AffineAblations: no '{kind}' effect on '{target}'");

    /// <summary>analysis.json's "ablations": the clean curves per group, and per target ("L0H1", "L0 MLP", "L0 attn") per kind per group its numbers.</summary>
    public JsonObject AnalysisNumbers() => AffineAblations.Numbers(Clean, Effects);

    /// <summary>The "Ablations" section of report.md, with its figures.</summary>
    public void Report(ReportBuilder report, RunFolder folder)
    {
        report.Heading("Ablations")
            .Paragraph("Each head's output is zero-ablated (hook_z of the head set to 0, so z_h·W_O[h] is gone; b_O stays) or mean-ablated (replaced by " +
                       "its mean over the test set, position by position); each layer's MLP (hook_mlp_out, its bias included) and whole attention " +
                       "layer (hook_attn_out, b_O included) likewise. ΔMSE is the change of the test MSE; \"toward copy-last\" is " +
                       $"Σ(MSE − clean)/Σ(copy-last − clean) over positions ≥ {AffineTokens.FirstDeterminedPosition} (1: as bad as predicting x_n). " +
                       "The heat maps show, per head and position, log10 of the ablated model's MSE over the clean model's.");
        AffineAblations.WriteEffects(report, folder, Clean, Effects, ["zero", "mean"], "ablation");
    }
}

/// <summary>
/// Zero- and mean-ablation of each head (hook_z of that head; the mean over the test set per position),
/// of each layer's MLP and of each whole attention layer: ΔMSE per position by sign of a, and how far the
/// error moves toward copy-last's (the paper: ablating layer-0 copy heads hurts badly; ablating the
/// last layer's negative-similarity heads pushes the error toward copy-last, most for a &lt; 0).
/// </summary>
public static class AffineAblations
{
    public static AffineAblationsResult Measure(Transformer<float> model, AffineTestSet test)
    {
        model = AffineForward.OnCpu(model);
        var config = model.Config;
        int positions = test.Positions;
        var clean = CleanMse(test, AffineForward.Predict(model, test.Inputs, positions));
        var effects = new List<InterventionEffect>();
        InterventionEffect Run(string target, string kind, int layer, int? head, string hook, Func<Var<float>, Var<float>> intervention) =>
            Effect(target, kind, layer, head, test, clean, AffineForward.Predict(model, test.Inputs, positions, (_, _) => new HookSet<float>().Add(hook, intervention)));
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            string z = HookNames.Z(layer), attention = HookNames.AttnOut(layer), mlp = HookNames.MlpOut(layer);
            var meanZ = AffineForward.MeanOverSequences(model, test.Inputs, positions, z);
            for (int head = 0; head < config.NHeads; head++)
            {
                string name = AffineFormat.HeadName(layer, head);
                effects.Add(Run(name, "zero", layer, head, z, Interventions.ZeroAblate<float>(z, head)));
                effects.Add(Run(name, "mean", layer, head, z, Interventions.MeanAblate(z, meanZ, head)));
            }
            if (config.HasMlp)
            {
                effects.Add(Run($"L{layer} MLP", "zero", layer, null, mlp, Interventions.ZeroAblate<float>(mlp)));
                effects.Add(Run($"L{layer} MLP", "mean", layer, null, mlp, Interventions.MeanAblate(mlp, AffineForward.MeanOverSequences(model, test.Inputs, positions, mlp))));
            }
            effects.Add(Run($"L{layer} attn", "zero", layer, null, attention, Interventions.ZeroAblate<float>(attention)));
            effects.Add(Run($"L{layer} attn", "mean", layer, null, attention,
                Interventions.MeanAblate(attention, AffineForward.MeanOverSequences(model, test.Inputs, positions, attention))));
        }
        return new AffineAblationsResult(clean, effects);
    }

    /// <summary>The clean model's per-position MSE, copy-last's and the oracle's, per sign group.</summary>
    public static IReadOnlyList<PositionMse> CleanMse(AffineTestSet test, float[] predictions) =>
        AffineTokens.SignGroups.Select(group =>
        {
            var include = AffinePerformance.Groups.First(g => g.Label == group).Include;
            bool Include(int i) => include(test, i);
            return new PositionMse(group, Enumerable.Range(0, test.Count).Count(Include), test.MsePerPosition(predictions, Include),
                test.BaselineMsePerPosition(AffineTask.CopyLast, Include), test.BaselineMsePerPosition(test.Task.Oracle, Include));
        }).ToList();

    /// <summary>An intervention's effect from its predictions [count, positions] on the test set.</summary>
    public static InterventionEffect Effect(string target, string kind, int layer, int? head, AffineTestSet test, IReadOnlyList<PositionMse> clean, float[] predictions) =>
        new(target, kind, layer, head, clean.Select(c =>
        {
            var include = AffinePerformance.Groups.First(g => g.Label == c.Label).Include;
            var mse = test.MsePerPosition(predictions, i => include(test, i));
            var delta = mse.Zip(c.Model, (m, m0) => m - m0).ToArray();
            int from = Math.Min(AffineTokens.FirstDeterminedPosition, delta.Length - 1);
            double gap = c.CopyLast.Skip(from).Sum() - c.Model.Skip(from).Sum();
            return new InterventionGroup(c.Label, mse, delta, delta.Skip(from).Average(), delta.Skip(from).Sum() / gap);
        }).ToList());

    internal static JsonObject Numbers(IReadOnlyList<PositionMse> clean, IEnumerable<InterventionEffect> effects)
    {
        var cleanJson = new JsonObject();
        foreach (var c in clean)
            cleanJson[AffineFormat.GroupKey(c.Label)] = new JsonObject
            {
                ["sequences"] = c.Sequences,
                ["mse_by_position"] = AffineFormat.Numbers(c.Model),
                ["copy_last_mse_by_position"] = AffineFormat.Numbers(c.CopyLast),
            };
        var targets = new JsonObject();
        foreach (var e in effects)
        {
            if (targets[e.Target] is not JsonObject entry) targets[e.Target] = entry = new JsonObject { ["layer"] = e.Layer, ["head"] = e.Head };
            var kind = new JsonObject();
            foreach (var g in e.Groups) kind[AffineFormat.GroupKey(g.Group)] = g.ToJson();
            entry[e.Kind] = kind;
        }
        return new JsonObject { ["pooled_from_position"] = AffineTokens.FirstDeterminedPosition, ["clean"] = cleanJson, ["targets"] = targets };
    }

    /// <summary>Per kind: a table (pooled ΔMSE and toward-copy-last per group) and a heat map grid head × position per group; then the last layer's heads against copy-last.</summary>
    internal static void WriteEffects(ReportBuilder report, RunFolder folder, IReadOnlyList<PositionMse> clean, IReadOnlyList<InterventionEffect> effects,
        IReadOnlyList<string> kinds, string filePrefix)
    {
        var groups = AffineTokens.SignGroups;
        foreach (var kind in kinds)
        {
            var ofKind = effects.Where(e => e.Kind == kind).ToList();
            var heads = ofKind.Where(e => e.Head is not null).ToList();
            string heatMap = folder.FigurePath($"{filePrefix}_{kind}_heatmap.png");
            Figures.HeatMapGrid(heatMap, groups.Select(g => new HeatMapPanel(g, LogRatio(heads, clean, g),
                heads.Select(e => e.Target).ToArray(), Enumerable.Range(0, clean[0].Model.Length).Select(n => n.ToString()).ToArray())).ToList(),
                $"{kind}, per head: log10(MSE {kind} / clean MSE) per position", "position n", "", columns: groups.Count,
                panelWidth: Math.Max(520, 40 * heads.Count), panelHeight: Math.Max(380, 60 + 28 * heads.Count));
            report.Table(["target", "kind", .. groups.Select(g => $"ΔMSE {g}"), .. groups.Select(g => $"toward copy-last {g}")],
                    ofKind.Select(e => (IReadOnlyList<object?>)[e.Target, kind, .. groups.Select(g => AffineFormat.E(e[g].PooledDeltaMse)),
                        .. groups.Select(g => AffineFormat.F(e[g].TowardCopyLast))]))
                .Figure(heatMap, $"{kind}, per head and position: log10 of the MSE over the clean model's, by sign of a (red: worse, blue: better)");
        }
        int lastLayer = effects.Max(e => e.Layer);
        var positions = AffineFormat.PositionAxis(clean[0].Model.Length);
        foreach (var group in groups.Skip(1))
        {
            var c = clean.First(x => x.Label == group);
            string path = folder.FigurePath($"{filePrefix}_last_layer_{AffineFormat.GroupKey(group)}.png");
            Figures.Lines(path,
                [new Series("clean", positions, c.Model), new Series("copy-last", positions, c.CopyLast),
                 .. effects.Where(e => e.Layer == lastLayer && e.Head is not null && e.Kind == kinds[0])
                     .Select(e => new Series($"{e.Target} {e.Kind}", positions, e[group].Mse))],
                $"Layer {lastLayer} heads, {kinds[0]}: MSE per position, {group}", "position n", "mean squared error", logY: true);
            report.Figure(path, $"Layer {lastLayer} heads under {kinds[0]} against the clean model and copy-last, {group}");
        }
    }

    /// <summary>log10(MSE with the intervention / clean MSE) per effect and position: readable over positions whose clean MSE differs by orders of magnitude.</summary>
    static double[,] LogRatio(IReadOnlyList<InterventionEffect> effects, IReadOnlyList<PositionMse> clean, string group)
    {
        var cleanMse = clean.First(c => c.Label == group).Model;
        var values = new double[effects.Count, cleanMse.Length];
        for (int r = 0; r < effects.Count; r++)
            for (int n = 0; n < cleanMse.Length; n++) values[r, n] = Math.Log10(effects[r][group].Mse[n] / cleanMse[n]);
        return values;
    }
}
