using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Retrieval;

/// <summary>Held-out accuracy per number of look-ups with one head zero-ablated.</summary>
public sealed record HeadAblation(int Layer, int Head, double[] AccuracyByHops);

/// <summary>
/// Zero-ablation of every head (its hook_z: its whole output removed) and the accuracy per number of
/// look-ups that remains. The circuit predicts it: ablating a head needed for ≤ d hops makes accuracy at
/// depth d collapse, and leaves shorter problems intact.
/// </summary>
public static class RetrievalAblations
{
    public static (double[] Clean, IReadOnlyList<HeadAblation> Heads) Run(Transformer<float> model, IReadOnlyList<FixedTokenDataset<float>> byHops, int limit)
    {
        var cpu = model.ToDevice(CpuDevice.Instance);
        double[] Accuracy(HookSet<float>? hooks) =>
            byHops.Select(set => new TokenEvaluator<float>(cpu, set, RetrievalRun.EvalBatch, hooks).Evaluate(limit).Accuracy).ToArray();
        var clean = Accuracy(null);
        var heads = new List<HeadAblation>();
        for (int l = 0; l < cpu.Config.NLayers; l++)
            for (int h = 0; h < cpu.Config.NHeads; h++)
                heads.Add(new HeadAblation(l, h, Accuracy(new HookSet<float>().Add(HookNames.Z(l), Interventions.ZeroAblate<float>(HookNames.Z(l), h)))));
        return (clean, heads);
    }
}
