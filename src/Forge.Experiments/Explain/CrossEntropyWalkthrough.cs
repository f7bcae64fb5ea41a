using System.CommandLine;
using System.Numerics;
using Forge.Experiments.Cli;
using Forge.Kernels;

namespace Forge.Experiments.Explain;

/// <summary>The cross-entropy example's sizes and seed; the defaults give the example in docs/attention-backward.md.</summary>
public sealed record CrossEntropyExample(int Positions = 2, int Vocab = 4, ulong Seed = ExplainCommand.DefaultSeed);

/// <summary>
/// <c>explain cross-entropy</c>: softmax + negative log-likelihood, averaged over positions, on a tiny
/// random example; <see cref="CrossEntropyReference"/> computes both passes and dLogits is printed beside
/// its float64 finite difference.
/// </summary>
public static class CrossEntropyWalkthrough
{
    public static Command Command()
    {
        var defaults = new CrossEntropyExample();
        var positions = OptionFactory.Int("--positions", "Rows of logits, one target each.", defaults.Positions, min: 1, max: 12);
        var vocab = OptionFactory.Int("--vocab", "Classes per row.", defaults.Vocab, min: 2, max: 12);
        return ExplainCommand.Topic("cross-entropy",
            "Cross-entropy loss: forward, then the backward step beside its finite difference.",
            [positions, vocab],
            (parse, seed, float64) =>
            {
                var example = new CrossEntropyExample(parse.GetValue(positions), parse.GetValue(vocab), seed);
                return float64 ? Run<double>(example) : Run<float>(example);
            });
    }

    /// <summary>Runs the example with the engine in precision <typeparamref name="T"/> (finite differences are always float64).</summary>
    public static Walkthrough Run<T>(CrossEntropyExample example) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = example.Positions, vocab = example.Vocab;
        var rng = new Rng(example.Seed);
        T[] logits = Numbers.From<T>(Numbers.Draw(rng, n * vocab, 2));
        int[] targets = Enumerable.Range(0, n).Select(_ => rng.NextInt(vocab)).ToArray();

        var probs = new T[n * vocab];     // [position, vocab]
        var rowLoss = new T[n];           // [position]
        T loss = CrossEntropyReference.Forward<T>(logits, targets, [], probs, rowLoss, n, vocab);
        var dLogits = new T[n * vocab];   // [position, vocab]
        CrossEntropyReference.Backward<T>(probs, targets, [], T.One, dLogits, n, vocab);   // dL/dL = 1

        double LossFromLogits(double[] input) =>
            CrossEntropyReference.Forward<double>(input, targets, [], new double[n * vocab], new double[n], n, vocab);

        var walkthrough = new Walkthrough(ExplainCommand.Tolerance<T>());
        var s = walkthrough.Section("explain cross-entropy: softmax and negative log-likelihood, mean over positions");
        s.Line($"{n} positions, vocab {vocab}, seed {example.Seed}, {ExplainCommand.TypeName<T>()}");
        walkthrough.Add(s);

        s = walkthrough.Section("inputs: random logits, one decimal each, and a target class per position");
        s.Blocks(Block.Matrix("logits [position, vocab]", logits, n, vocab, decimals: 1));
        s.Line($"targets [position] = {string.Join(", ", targets)}");
        walkthrough.Add(s);

        s = walkthrough.Section("forward · probs = softmax(logits) per row,  rowLoss = −log probs[target],  L = Σ rowLoss / n");
        s.Line("CrossEntropyReference.Forward");
        s.Blocks(Block.Matrix("probs [position, vocab]", probs, n, vocab));
        s.Blocks(Block.Vector("rowLoss [position]", rowLoss));
        // Row 0 by hand; the exponentials are printed for hand-checking only.
        var logits0 = Numbers.ToDouble<T>(logits.AsSpan(0, vocab));
        var exps = logits0.Select(logit => Math.Exp(logit - logits0.Max())).ToArray();
        double target0 = double.CreateChecked(probs[targets[0]]);
        s.Line($"by hand, row 0: exp(logits[0, j] − max) = {string.Join(", ", exps.Select(ByHand.Short))}, sum = {ByHand.Short(exps.Sum())}," +
               $" probs[0, {targets[0]}] = {ByHand.Short(exps[targets[0]])} / {ByHand.Short(exps.Sum())} = {ByHand.Short(target0)}");
        s.Line($"by hand: rowLoss[0] = −log probs[0, {targets[0]}] = −log {ByHand.Short(target0)} = {ByHand.Short(double.CreateChecked(rowLoss[0]))}");
        s.Line($"L = {Numbers.Format(double.CreateChecked(loss))}");
        walkthrough.Add(s);

        s = walkthrough.Section("backward · forward: rowLoss = log Σ_j exp(logits[j]) − logits[target],  L = Σ rowLoss / n");
        s.Line("dLogits[j] = (probs[j] − [j = target]) / n");
        s.Line("CrossEntropyReference.Backward");
        walkthrough.Gradient(s, "dLogits", "[position, vocab]", Numbers.ToDouble<T>(dLogits),
            FiniteDifferences.Gradient(LossFromLogits, Numbers.ToDouble<T>(logits)), n, vocab);
        int other = targets[0] == 0 ? 1 : 0;
        s.Line($"by hand: dLogits[0, {targets[0]}] = ({ByHand.Short(target0)} − 1) / {n} = {ByHand.Short(double.CreateChecked(dLogits[targets[0]]))}," +
               $" dLogits[0, {other}] = {ByHand.Short(double.CreateChecked(probs[other]))} / {n} = {ByHand.Short(double.CreateChecked(dLogits[other]))}");
        walkthrough.Verdict(s, "dLogits");
        walkthrough.Add(s);
        return walkthrough;
    }

}
