using System.Globalization;
using Forge.Experiments.Plotting;
using Forge.Models.Hooks;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Experiments.Retrieval;

/// <summary>
/// The figures of a trained retrieval model: the attention of every head on one held-out example with the
/// queried chain marked, and the circuit — which head of which layer attends to the token each hop needs.
/// </summary>
public static class RetrievalFigures
{
    /// <summary>A token as the figures label it: <c>Q</c>, <c>;</c>, <c>n7</c>, <c>v3</c>, <c>·</c> for padding; a star marks the queried chain's statements (the rhs tokens the hops need, and their lhs).</summary>
    public static IReadOnlyList<string> Labels(RetrievalTask task, ReadOnlySpan<int> sequence)
    {
        var chain = new HashSet<int>(ChainPositions.Of(task, sequence));
        var labels = new string[sequence.Length];
        for (int p = 0; p < sequence.Length; p++)
        {
            int t = sequence[p];
            string text = t switch
            {
                RetrievalTask.Pad => "·",
                RetrievalTask.Query => "Q",
                RetrievalTask.Sep => ";",
                _ when t < task.FirstValue => "n" + (t - task.FirstName).ToString(CultureInfo.InvariantCulture),
                _ => "v" + (t - task.FirstValue).ToString(CultureInfo.InvariantCulture),
            };
            bool marked = chain.Contains(p) || chain.Contains(p + 1) && p < task.StatementsEnd;
            labels[p] = marked ? "*" + text : text;
        }
        return labels;
    }

    /// <summary>Every head's attention pattern on example <paramref name="index"/> of <paramref name="data"/>, one panel per head, layer by layer.</summary>
    public static void AttentionMaps(string path, Transformer<float> model, RetrievalTask task, FixedTokenDataset<float> data, int index)
    {
        var cpu = model.ToDevice(CpuDevice.Instance);
        var batch = new TokenBatch<float>(1, task.Context);
        batch.SetRow(0, data.Sequence(index), data.PositionMask);
        batch.Upload();
        var hooks = new HookSet<float> { Cache = new ActivationCache<float>(name => name.EndsWith(".hook_pattern", StringComparison.Ordinal)) };
        using (Forge.Autograd.GradMode.NoGrad()) cpu.Forward(batch.Tokens, hooks);
        var labels = Labels(task, data.Sequence(index));
        int t = task.Context, heads = cpu.Config.NHeads;
        var panels = new List<HeatMapPanel>();
        for (int l = 0; l < cpu.Config.NLayers; l++)
        {
            var pattern = hooks.Cache[HookNames.Pattern(l)].AsSpan();   // [1, head, query, key]
            for (int h = 0; h < heads; h++)
            {
                var values = new double[t, t];
                for (int q = 0; q < t; q++) for (int k = 0; k < t; k++) values[q, k] = pattern[(h * t + q) * t + k];
                panels.Add(new HeatMapPanel($"L{l}H{h}", values, labels, labels));
            }
        }
        Figures.HeatMapGrid(path, panels, "Attention on one held-out example (rows: from, columns: to; * = the queried chain)", "key", "query",
            HeatMapScale.Probability, columns: heads);
    }

    /// <summary>The circuit: each head's retrieval score per hop (rows: heads, columns: hops).</summary>
    public static void Circuit(string path, RetrievalHeads heads)
    {
        var values = new double[heads.Layers * heads.Heads, heads.Hops];
        var rows = new List<string>();
        for (int l = 0; l < heads.Layers; l++)
            for (int h = 0; h < heads.Heads; h++)
            {
                rows.Add($"L{l}H{h}");
                for (int k = 0; k < heads.Hops; k++) values[l * heads.Heads + h, k] = heads.Score(l, h, k);
            }
        Figures.HeatMapGrid(path, [new HeatMapPanel($"selective attention on the token each hop needs (a hop's head ≥ {RetrievalHeads.HeadThreshold})", values, rows, Enumerable.Range(1, heads.Hops).Select(k => $"hop {k}").ToList())],
            "The circuit", "hop", "head",
            HeatMapScale.Probability, columns: 1, panelWidth: 640, panelHeight: Math.Max(380, 28 * rows.Count + 120));
    }
}
