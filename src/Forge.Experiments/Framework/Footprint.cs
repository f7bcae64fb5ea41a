using System.Globalization;
using Forge.Experiments.Cli;
using Forge.Models.Transformers;

namespace Forge.Experiments.Framework;

/// <summary>
/// One kind of buffer a run allocates: <paramref name="Elements"/> per tensor, <paramref name="Copies"/>
/// tensors of that size (forward value, gradient, optimizer moments …).
/// </summary>
/// <param name="What">What it is, naming the settings that size it: "attention scores [batch_size × heads × n_ctx²]".</param>
public sealed record Allocation(string What, long Elements, int ElementBytes, int Copies = 1)
{
    public long Bytes => Elements * ElementBytes * Copies;
}

/// <summary>
/// What a recipe will allocate, checked before anything is written: no tensor may exceed 2³¹ − 1
/// elements (the engine's index type), and the whole must fit in the memory this process may use. The
/// estimate counts the big buffers of a training step and of evaluation (values, gradients, Adam's
/// moments, attention scores and patterns, logits) and the data sets; it is deliberately rough —
/// within a small factor — since its job is to refuse a run that cannot possibly fit, not to plan one.
/// </summary>
public static class Footprint
{
    /// <summary>Throws a <see cref="UsageException"/> naming the offending buffer when the allocations cannot be made here.</summary>
    public static void Check(string experiment, IEnumerable<Allocation> allocations, long? availableBytes = null)
    {
        var all = allocations.ToList();
        foreach (var a in all)
            if (a.Elements > int.MaxValue || a.Elements < 0)
                throw new UsageException($"{experiment}: {a.What} would have {Count(a.Elements)} elements, more than a tensor can hold (2³¹ − 1); make it smaller");
        long available = availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        double total = all.Sum(a => (double)a.Bytes);
        if (total > 0.9 * available)
        {
            var largest = all.MaxBy(a => a.Bytes)!;
            throw new UsageException($"{experiment}: the run needs about {GiB(total)} of memory, more than the {GiB(available)} this process can use " +
                                     $"(largest: {largest.What}, {GiB(largest.Bytes)}); make it smaller");
        }
    }

    /// <summary>
    /// The buffers of a transformer trained with Adam on batches of <paramref name="rows"/> sequences of
    /// <paramref name="positions"/> tokens, and of its forward pass on <paramref name="evalRows"/> rows for evaluation.
    /// </summary>
    public static IEnumerable<Allocation> Transformer(TransformerConfig c, long rows, long positions, long evalRows)
    {
        const int Float = 4, AdamCopies = 4;   // value, gradient, first and second moment
        long input = c.DIn ?? c.DVocab;
        yield return new($"the embedding [d_vocab {input} × d_model {c.DModel}]", input * c.DModel, Float, AdamCopies);
        yield return new($"the unembedding [d_model {c.DModel} × d_vocab_out {c.DVocabOut}]", (long)c.DModel * c.DVocabOut, Float, AdamCopies);
        yield return new($"the positional embedding [n_ctx {c.NCtx} × d_model {c.DModel}]", (long)c.NCtx * c.DModel, Float, AdamCopies);
        yield return new($"W_Q/W_K/W_V/W_O [heads {c.NHeads} × d_model {c.DModel} × d_head {c.DHead}]", (long)c.NHeads * c.DModel * c.DHead, Float, 4 * AdamCopies * c.NLayers);
        if (c.DMlp is int mlp) yield return new($"the MLP weights [d_model {c.DModel} × d_mlp {mlp}]", (long)c.DModel * mlp, Float, 2 * AdamCopies * c.NLayers);
        foreach (var (batch, label, backward) in new[] { (rows, "batch", true), (evalRows, "evaluation batch", false) })
        {
            int twice = backward ? 2 : 1;   // the backward pass keeps a gradient of each
            yield return new($"the residual stream [{label} {batch} × positions {positions} × d_model {c.DModel}]", batch * positions * c.DModel, Float, (12 * c.NLayers + 6) * twice);
            yield return new($"attention scores [{label} {batch} × heads {c.NHeads} × positions {positions}²]", batch * c.NHeads * positions * positions, Float, 2 * c.NLayers * twice);
            // Pre- and post-GELU activations (with their gradients when training), and the tanh the CPU keeps for GELU's backward pass.
            if (c.DMlp is int hidden) yield return new($"the MLP activations [{label} {batch} × positions {positions} × d_mlp {hidden}]", batch * positions * hidden, Float, (2 * twice + (backward ? 1 : 0)) * c.NLayers);
            yield return new($"the logits [{label} {batch} × positions {positions} × d_vocab_out {c.DVocabOut}]", batch * positions * c.DVocabOut, Float, 1 + twice);
        }
    }

    static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    static string GiB(double bytes) => bytes >= 1 << 30
        ? (bytes / (1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (1 << 20)).ToString("F0", CultureInfo.InvariantCulture) + " MiB";
}
