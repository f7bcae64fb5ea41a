using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>Validation metrics with one head ablated, and their change from the clean model.</summary>
public sealed record AblationResult(int Head, string Kind, TokenMetrics Metrics, double DeltaLoss, double DeltaAccuracy, double DeltaEntropy, double DeltaConfidence);

/// <summary>
/// Zero- and mean-ablation of each head's output (hook_z of the head: its whole contribution
/// z_h·W_O[h] is removed, or replaced by its mean over a reference batch, position by position),
/// evaluated on the validation set: Δloss, Δaccuracy, Δmean entropy, Δmean confidence and the
/// reliability table of the ablated model (claim 5: a suppressor calibrates the copier's confidence).
/// </summary>
public static class HeadAblations
{
    public static (TokenMetrics Clean, AblationResult[] Ablations) Run(Transformer<float> model, FixedTokenDataset<float> validation, int batchSize)
    {
        var clean = new TokenEvaluator<float>(model, validation, batchSize).Evaluate();
        var reference = ReferenceZ(model, validation, Math.Min(validation.Count, 2048));
        var results = new List<AblationResult>();
        string hook = HookNames.Z(0);
        for (int head = 0; head < model.Config.NHeads; head++)
            foreach (var (kind, intervention) in new[]
            {
                ("zero", Interventions.ZeroAblate<float>(hook, head)),
                ("mean", Interventions.MeanAblate(hook, reference, head)),
            })
            {
                var hooks = new HookSet<float>().Add(hook, intervention);
                var m = new TokenEvaluator<float>(model, validation, batchSize, hooks).Evaluate();
                results.Add(new AblationResult(head, kind, m, m.Loss - clean.Loss, m.Accuracy - clean.Accuracy,
                    m.MeanEntropy - clean.MeanEntropy, m.MeanConfidence - clean.MeanConfidence));
            }
        return (clean, [.. results]);
    }

    /// <summary>hook_z on the first <paramref name="count"/> validation sequences (the mean-ablation reference).</summary>
    static Tensor<float> ReferenceZ(Transformer<float> model, FixedTokenDataset<float> data, int count)
    {
        var batch = new TokenBatch<float>(count, data.Positions);
        data.FillInOrder(0, batch);
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>(name => name == HookNames.Z(0)) };
        using (GradMode.NoGrad()) model.Forward(batch.Tokens, hooks);
        return hooks.Cache[HookNames.Z(0)];
    }
}
