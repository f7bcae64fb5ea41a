using System.CommandLine;
using System.Numerics;
using Forge.Experiments.Cli;
using Forge.Kernels;

namespace Forge.Experiments.Explain;

/// <summary>The attention example's sizes and seed; the defaults give the example in docs/attention-backward.md.</summary>
public sealed record AttentionExample(int Positions = 3, int DHead = 2, int DModel = 3, ulong Seed = ExplainCommand.DefaultSeed);

/// <summary>
/// <c>explain attention</c>: one causal attention head and its output projection on a tiny random example,
/// forward then backward. The engine's reference code computes every step (<see cref="AttentionReference"/>
/// step by step, <see cref="GemmReference"/> for the projection), and every gradient is printed beside its
/// float64 finite difference (<see cref="AttentionLosses"/>).
/// </summary>
public static class AttentionWalkthrough
{
    public static Command Command()
    {
        var defaults = new AttentionExample();
        var positions = OptionFactory.Int("--positions", "Sequence length (query and key positions).", defaults.Positions, min: 1, max: 12);
        var dHead = OptionFactory.Int("--d-head", "Size of each query, key and value vector.", defaults.DHead, min: 1, max: 12);
        var dModel = OptionFactory.Int("--d-model", "Width of the output projection W_O [d_head, d_model].", defaults.DModel, min: 1, max: 12);
        return ExplainCommand.Topic("attention",
            "One causal attention head and its output projection: forward, then each backward step beside its finite difference.",
            [positions, dHead, dModel],
            (parse, seed, float64) =>
            {
                var example = new AttentionExample(parse.GetValue(positions), parse.GetValue(dHead), parse.GetValue(dModel), seed);
                return float64 ? Run<double>(example) : Run<float>(example);
            });
    }

    /// <summary>Runs the example with the engine in precision <typeparamref name="T"/> (finite differences are always float64).</summary>
    public static Walkthrough Run<T>(AttentionExample example) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var passes = AttentionPasses.Compute<T>(example);
        var losses = new AttentionLosses(passes);
        var walkthrough = new Walkthrough(ExplainCommand.Tolerance<T>());

        var s = walkthrough.Section("explain attention: one causal head and its output projection, forward then backward");
        s.Line($"{passes.T} positions, d_head {passes.DHead}, d_model {passes.DModel}, seed {example.Seed}, {ExplainCommand.TypeName<T>()}");
        s.Line("one head and batch 1: the engine's [batch, position, head, d_head] buffers are [position, d_head] here");
        s.Line("\"by hand\" lines redo one entry from the printed (rounded) numbers: the last digit may differ");
        walkthrough.Add(s);
        Inputs(walkthrough, passes);
        Forward(walkthrough, passes);
        OutputProjectionBackward(walkthrough, passes, losses);
        WeightedSumBackward(walkthrough, passes, losses);
        double[] numericDScores = FiniteDifferences.Gradient(losses.FromScores, losses.Scores);
        SoftmaxBackwardLongWay(walkthrough, passes, numericDScores);
        SoftmaxBackwardShortWay(walkthrough, passes, numericDScores);
        ScoresBackward(walkthrough, passes, losses);
        return walkthrough;
    }

    static void Inputs(Walkthrough walkthrough, AttentionPasses p)
    {
        var s = walkthrough.Section("inputs: random, one decimal each, so that you can follow by hand");
        s.Blocks(new Block("q [query, d_head]", p.Q, p.T, p.DHead, 1), new Block("k [key, d_head]", p.K, p.T, p.DHead, 1),
            new Block("v [key, d_head]", p.V, p.T, p.DHead, 1));
        s.Blocks(new Block("W_O [d_head, d_model]", p.WO, p.DHead, p.DModel, 1), new Block("dOut [query, d_model]", p.DOut, p.T, p.DModel, 1));
        s.Line($"scale = 1/√d_head = {Numbers.Format(p.Scale)}");
        s.Line("dOut stands in for the layers above: the loss is L = Σ out ⊙ dOut, so ∂L/∂out = dOut");
        walkthrough.Add(s);
    }

    /// <summary>The four forward sections; "by hand" always takes the last query, the one that sees every key.</summary>
    static void Forward(Walkthrough walkthrough, AttentionPasses p)
    {
        int t = p.T, last = p.T - 1;
        var s = walkthrough.Section("forward 1 · scores[i, j] = scale · Σ_d q[i, d] · k[j, d] for j ≤ i, −∞ above the diagonal");
        s.Line("AttentionReference.ScoresForward");
        s.Blocks(new Block("scores [query, key]", p.Scores, t, t));
        s.Line(ByHand.Sum($"scores[{last}, 0]", Range(p.DHead).Select(d => (p.Q[last * p.DHead + d], p.K[d])), p.Scores[last * t], p.Scale));
        walkthrough.Add(s);

        s = walkthrough.Section("forward 2 · pattern[i, j] = exp(scores[i, j]) / Σ_j' exp(scores[i, j']): each row sums to 1");
        s.Line("AttentionReference.SoftmaxForward");
        s.Blocks(new Block("pattern [query, key]", p.Pattern, t, t));
        var row = p.Scores.AsSpan(last * t, t).ToArray();
        double max = row.Max();
        var exps = row.Select(score => Math.Exp(score - max)).ToArray();
        s.Line($"by hand, row {last}: max = {ByHand.Short(max)}, exp(scores[{last}, j] − max) = {string.Join(", ", exps.Select(ByHand.Short))}, " +
               $"sum = {ByHand.Short(exps.Sum())}, pattern[{last}, 0] = {ByHand.Short(exps[0])} / {ByHand.Short(exps.Sum())} = {ByHand.Short(p.Pattern[last * t])}");
        walkthrough.Add(s);

        s = walkthrough.Section("forward 3 · z[i, d] = Σ_j pattern[i, j] · v[j, d]");
        s.Line("AttentionReference.WeightedSumForward");
        s.Blocks(new Block("z [query, d_head]", p.Z, t, p.DHead));
        s.Line(ByHand.Sum($"z[{last}, 0]", Range(t).Select(j => (p.Pattern[last * t + j], p.V[j * p.DHead])), p.Z[last * p.DHead]));
        walkthrough.Add(s);

        s = walkthrough.Section("forward 4 · out = z · W_O, the output projection back to d_model");
        s.Line("GemmReference.Run");
        s.Blocks(new Block("out [query, d_model]", p.Out, t, p.DModel));
        s.Line(ByHand.Sum($"out[{last}, 0]", Range(p.DHead).Select(d => (p.Z[last * p.DHead + d], p.WO[d * p.DModel])), p.Out[last * p.DModel]));
        s.Line($"L = Σ out ⊙ dOut = {Numbers.Format(FiniteDifferences.Dot(p.Out, p.DOut))}");
        walkthrough.Add(s);
    }

    static void OutputProjectionBackward(Walkthrough walkthrough, AttentionPasses p, AttentionLosses losses)
    {
        int last = p.T - 1;
        var s = walkthrough.Section("backward 4 · forward: out = z · W_O");
        s.Line("dz = dOut · W_Oᵀ,  dW_O = zᵀ · dOut   (GemmReference.Run)");
        walkthrough.Gradient(s, "dz", "[query, d_head]", p.DZ, FiniteDifferences.Gradient(losses.FromZ, losses.Z), p.T, p.DHead);
        walkthrough.Gradient(s, "dW_O", "[d_head, d_model]", p.DWO, FiniteDifferences.Gradient(losses.FromWO, losses.WO), p.DHead, p.DModel);
        s.Line(ByHand.Sum($"dz[{last}, 0]", Range(p.DModel).Select(m => (p.DOut[last * p.DModel + m], p.WO[m])), p.DZ[last * p.DHead]));
        s.Line(ByHand.Sum("dW_O[0, 0]", Range(p.T).Select(i => (p.Z[i * p.DHead], p.DOut[i * p.DModel])), p.DWO[0]));
        walkthrough.Verdict(s, "dz", "dW_O");
        walkthrough.Add(s);
    }

    static void WeightedSumBackward(Walkthrough walkthrough, AttentionPasses p, AttentionLosses losses)
    {
        int t = p.T, last = p.T - 1;
        var s = walkthrough.Section("backward 3 · forward: z[i, d] = Σ_j pattern[i, j] · v[j, d]");
        s.Line("dPattern[i, j] = Σ_d dz[i, d] · v[j, d],  dv[j, d] = Σ_i pattern[i, j] · dz[i, d]");
        s.Line("AttentionReference.WeightedSumBackward");
        walkthrough.Gradient(s, "dPattern", "[query, key]", p.DPattern, FiniteDifferences.Gradient(losses.FromPattern, losses.Pattern), t, t);
        walkthrough.Gradient(s, "dv", "[key, d_head]", p.DV, FiniteDifferences.Gradient(losses.FromV, losses.V), t, p.DHead);
        s.Line(ByHand.Sum($"dPattern[{last}, 0]", Range(p.DHead).Select(d => (p.DZ[last * p.DHead + d], p.V[d])), p.DPattern[last * t]));
        s.Line(ByHand.Sum("dv[0, 0]", Range(t).Select(i => (p.Pattern[i * t], p.DZ[i * p.DHead])), p.DV[0]));
        walkthrough.Verdict(s, "dPattern", "dv");
        walkthrough.Add(s);
    }

    static void SoftmaxBackwardLongWay(Walkthrough walkthrough, AttentionPasses p, double[] numericDScores)
    {
        int t = p.T, last = p.T - 1;
        var s = walkthrough.Section("backward 2, the long way · forward: pattern[i, j] = exp(scores[i, j]) / Σ_j' exp(scores[i, j'])");
        s.Line("the softmax Jacobian of row i: J[j, k] = ∂pattern[i, j]/∂scores[i, k] = pattern[i, j] · (δ_jk − pattern[i, k])");
        s.Line($"for the last row, i = {last} (AttentionReference.SoftmaxJacobian):");
        s.Blocks(new Block("J [j, k]", p.LastRowJacobian, t, t));
        double p0 = p.Pattern[last * t];
        s.Line($"by hand: J[0, 0] = {ByHand.Term(p0)} · (1 − {ByHand.Term(p0)}) = {ByHand.Short(p.LastRowJacobian[0])}" +
               (t > 1 ? $", J[0, 1] = −{ByHand.Term(p0)} · {ByHand.Term(p.Pattern[last * t + 1])} = {ByHand.Short(p.LastRowJacobian[1])}" : ""));
        s.Line("every row: dScores[i, k] = Σ_j dPattern[i, j] · J[j, k]   (AttentionReference.SoftmaxBackwardFullJacobian)");
        walkthrough.Gradient(s, "dScores", "(long way) [query, key]", p.DScoresLongWay, numericDScores, t, t);
        s.Line(ByHand.Sum($"dScores[{last}, 0]", Range(t).Select(j => (p.DPattern[last * t + j], p.LastRowJacobian[j * t])), p.DScoresLongWay[last * t]));
        walkthrough.Verdict(s, "dScores");
        walkthrough.Add(s);
    }

    static void SoftmaxBackwardShortWay(Walkthrough walkthrough, AttentionPasses p, double[] numericDScores)
    {
        int t = p.T, last = p.T - 1;
        // Σ_j pattern[i, j]·dPattern[i, j] per row: printed so dScores can be checked by hand
        // (inside AttentionReference.SoftmaxBackward this is weightedMean).
        var weightedMeans = Range(t).Select(i => Range(i + 1).Sum(j => p.Pattern[i * t + j] * p.DPattern[i * t + j])).ToArray();
        var s = walkthrough.Section("backward 2, the short way · what the fast kernel computes, exactly equal");
        s.Line("dScores[i, k] = pattern[i, k] · (dPattern[i, k] − Σ_j pattern[i, j] · dPattern[i, j])");
        s.Line("AttentionReference.SoftmaxBackward");
        s.Blocks(Block.Vector("Σ_j pattern[i, j] · dPattern[i, j], per query i", weightedMeans));
        walkthrough.Gradient(s, "dScores", "[query, key]", p.DScores, numericDScores, t, t);
        s.Line($"by hand: dScores[{last}, 0] = {ByHand.Term(p.Pattern[last * t])} · ({ByHand.Short(p.DPattern[last * t])} − {ByHand.Term(weightedMeans[last])})" +
               $" = {ByHand.Short(p.DScores[last * t])}");
        walkthrough.Verdict(s, "dScores");
        s.Line("above the diagonal pattern = 0, so dScores = 0: no gradient flows through the mask");
        walkthrough.Add(s);
    }

    static void ScoresBackward(Walkthrough walkthrough, AttentionPasses p, AttentionLosses losses)
    {
        int t = p.T, last = p.T - 1;
        var s = walkthrough.Section("backward 1 · forward: scores[i, j] = scale · Σ_d q[i, d] · k[j, d]   (j ≤ i)");
        s.Line("dq[i, d] = scale · Σ_j dScores[i, j] · k[j, d],  dk[j, d] = scale · Σ_i dScores[i, j] · q[i, d]");
        s.Line("AttentionReference.ScoresBackward");
        walkthrough.Gradient(s, "dq", "[query, d_head]", p.DQ, FiniteDifferences.Gradient(losses.FromQ, losses.Q), t, p.DHead);
        walkthrough.Gradient(s, "dk", "[key, d_head]", p.DK, FiniteDifferences.Gradient(losses.FromK, losses.K), t, p.DHead);
        s.Line(ByHand.Sum($"dq[{last}, 0]", Range(t).Select(j => (p.DScores[last * t + j], p.K[j * p.DHead])), p.DQ[last * p.DHead], p.Scale));
        s.Line(ByHand.Sum("dk[0, 0]", Range(t).Select(i => (p.DScores[i * t], p.Q[i * p.DHead])), p.DK[0], p.Scale));
        walkthrough.Verdict(s, "dq", "dk");
        walkthrough.Add(s);
    }

    static IEnumerable<int> Range(int count) => Enumerable.Range(0, count);
}
