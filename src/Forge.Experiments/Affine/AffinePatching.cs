using System.Text.Json.Nodes;
using Forge.Experiments.Reports;
using Forge.Experiments.Runs;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>Activation patching per head: the clean model's MSE per sign group, each head's effect, and the fully corrupted run's error for scale.</summary>
/// <param name="CorruptedRun">The model run on the corrupted sequences, scored against the clean targets: the effect of corrupting everything.</param>
public sealed record AffinePatchingResult(IReadOnlyList<PositionMse> Clean, IReadOnlyList<InterventionEffect> Effects, InterventionEffect CorruptedRun)
{
    public InterventionEffect Effect(string head) => Effects.FirstOrDefault(e => e.Target == head)
        ?? throw new KeyNotFoundException($"AffinePatching: no head '{head}'");

    /// <summary>analysis.json's "patching": the pair and direction, the corrupted run, and per head ("L0H1") its "patch" numbers per group.</summary>
    public JsonObject AnalysisNumbers()
    {
        var numbers = AffineAblations.Numbers(Clean, Effects);
        numbers["corruption"] = AffinePatching.Corruption;
        numbers["direction"] = AffinePatching.Direction;
        var corrupted = new JsonObject();
        foreach (var g in CorruptedRun.Groups) corrupted[AffineFormat.GroupKey(g.Group)] = g.ToJson();
        numbers["corrupted_run"] = corrupted;
        return numbers;
    }

    /// <summary>The "Activation patching" section of report.md, with its figures.</summary>
    public void Report(ReportBuilder report, RunFolder folder)
    {
        report.Heading("Activation patching per head")
            .Paragraph($"Pair: {AffinePatching.Corruption} Direction: {AffinePatching.Direction} The row \"{CorruptedRun.Target}\" is the model run on the " +
                       "corrupted sequences altogether (every activation corrupted), scored against the clean targets.");
        AffineAblations.WriteEffects(report, folder, Clean, [.. Effects, CorruptedRun], ["patch"], "patching");
    }
}

/// <summary>
/// Activation patching per head with a pair that differs only in the sign of a: the corrupted sequence has
/// the same x_0 and b and a replaced by −a (so x_1 and everything after differ, by an amount that grows
/// with |a|; for a ≈ 0 the two coincide). Each head's hook_z on the corrupted sequence is patched into the
/// clean run (noising), and the MSE against the clean targets measures how much the prediction depends on
/// that head carrying this sequence's a, with every later layer recomputed.
/// </summary>
public static class AffinePatching
{
    public const string Corruption = "corrupted = the same sequence with a replaced by −a (x_0 and b kept).";
    public const string Direction = "the clean run with one head's hook_z taken from the corrupted run (noising); ΔMSE against the clean targets.";

    public static AffinePatchingResult Measure(Transformer<float> model, AffineTestSet test)
    {
        model = AffineForward.OnCpu(model);
        var config = model.Config;
        int positions = test.Positions;
        var clean = AffineAblations.CleanMse(test, AffineForward.Predict(model, test.Inputs, positions));
        var corrupted = CorruptedInputs(test);
        var effects = new List<InterventionEffect>();
        for (int layer = 0; layer < config.NLayers; layer++)
        {
            var source = AffineForward.Gather(model, corrupted, positions, HookNames.Z(layer));
            for (int head = 0; head < config.NHeads; head++)
                effects.Add(AffineAblations.Effect(AffineFormat.HeadName(layer, head), "patch", layer, head, test, clean,
                    PatchedPredictions(model, test, source, layer, head)));
        }
        var corruptedRun = AffineAblations.Effect("corrupted run", "patch", -1, null, test, clean, AffineForward.Predict(model, corrupted, positions));
        return new AffinePatchingResult(clean, effects, corruptedRun);
    }

    /// <summary>The corrupted inputs [count, positions]: x'_0 = x_0, x'_{k+1} = −a·x'_k + b (computed in double like the test set).</summary>
    public static float[] CorruptedInputs(AffineTestSet test)
    {
        int positions = test.Positions;
        var inputs = new float[test.Count * positions];
        for (int i = 0; i < test.Count; i++)
        {
            double x = test.TermsOf(i)[0];
            for (int n = 0; n < positions; n++)
            {
                inputs[i * positions + n] = (float)x;
                x = -test.A[i] * x + test.B[i];
            }
        }
        return inputs;
    }

    /// <summary>
    /// The clean run's predictions [count, positions] with head <paramref name="head"/> of layer
    /// <paramref name="layer"/> taking its hook_z from <paramref name="source"/> (that hook's activation on other
    /// inputs, gathered by <see cref="AffineForward.Gather"/>), sequence by sequence.
    /// </summary>
    public static float[] PatchedPredictions(Transformer<float> model, AffineTestSet test, (float[] Values, int[] Shape) source, int layer, int head)
    {
        string hook = HookNames.Z(layer);
        return AffineForward.Predict(model, test.Inputs, test.Positions, (start, rows) =>
            new HookSet<float>().Add(hook, Interventions.Patch(hook, AffineForward.Slice(source.Values, source.Shape, start, rows), head)));
    }
}
