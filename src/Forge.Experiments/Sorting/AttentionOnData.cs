using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Sorting;

/// <summary>
/// How the heads attend on real lists. When the model predicts the next sorted number v (at SEP and
/// at b₁ … bₙ₋₁), v sits somewhere in the unsorted prefix; <see cref="AttentionToTarget"/>[h, v] is
/// head h's mean attention weight on that position, over all predictions of v. The head with the most
/// attention "handles" v — for vocabulary-splitting this should match the OV copy ranges.
/// </summary>
public sealed record AttentionOnData(double[,] AttentionToTarget, int[] HandlingHead, float[][,] ExamplePatterns, int[] ExampleTokens)
{
    public static AttentionOnData Measure(Transformer<float> model, SortingTask task, FixedTokenDataset<float> data, int count)
    {
        int heads = model.Config.NHeads, n = task.ListLength, numbers = task.MaxValue + 1, t = task.Context;
        var batch = new TokenBatch<float>(Math.Min(count, data.Count), data.Positions);
        data.FillInOrder(0, batch);
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>(name => name == HookNames.Pattern(0)) };
        using (GradMode.NoGrad()) model.Forward(batch.Tokens, hooks);
        var pattern = hooks.Cache[HookNames.Pattern(0)];        // [batch, head, query, key]
        var p = pattern.AsSpan();
        var tokens = batch.Tokens.AsSpan();

        var sum = new double[heads, numbers];
        var seen = new int[numbers];
        for (int b = 0; b < batch.BatchSize; b++)
            for (int query = n; query < 2 * n; query++)
            {
                int target = tokens[b * t + query + 1];
                int key = tokens.Slice(b * t, n).IndexOf(target);
                seen[target]++;
                for (int h = 0; h < heads; h++) sum[h, target] += p[((b * heads + h) * t + query) * t + key];
            }
        var handling = new int[numbers];
        for (int v = 0; v < numbers; v++)
        {
            for (int h = 0; h < heads; h++) sum[h, v] = seen[v] == 0 ? double.NaN : sum[h, v] / seen[v];
            handling[v] = seen[v] == 0 ? -1 : Enumerable.Range(0, heads).MaxBy(h => sum[h, v]);
        }
        var examples = new float[heads][,];   // the first list of the batch, per head
        for (int h = 0; h < heads; h++)
        {
            examples[h] = new float[t, t];
            for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) examples[h][i, j] = p[(h * t + i) * t + j];
        }
        return new AttentionOnData(sum, handling, examples, tokens[..t].ToArray());
    }

    /// <summary>Share of numbers whose handling head (by attention) is a head that copies them (by OV).</summary>
    public double AgreementWith(ModeClassification modes)
    {
        int agree = 0, total = 0;
        for (int v = 0; v < HandlingHead.Length; v++)
        {
            if (HandlingHead[v] < 0) continue;
            total++;
            if (modes.Heads[HandlingHead[v]].Copies.Contains(v)) agree++;
        }
        return total == 0 ? double.NaN : (double)agree / total;
    }
}
