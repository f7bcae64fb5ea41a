using Forge.Tests.Kernels;
using System.Numerics;
using Forge.Autograd;
using Forge.Kernels;
using Forge.Models.Training;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

/// <summary>
/// Computing only the rows a masked loss reads (<see cref="Transformer{T}.Forward(Tensor{int}, Forge.Models.Hooks.HookSet{T}?, Tensor{T}?)"/>'s
/// outputs, <see cref="TokenLoss.MaskedCrossEntropy{T}"/>): the loss and every parameter gradient are bit for bit
/// those of the full pass — whole batches and micro-batches, recorded and replayed with a mask that changes (padding
/// rows), a GPT with MLPs (the last block's MLP is cut too) and an attention-only model, float and double; the logits
/// that are read are the full pass's, the others 0 on the CPU; the kernels under it (<see cref="Gemm.LinearForwardOnRows{T}"/>,
/// <see cref="LayerNorm.Forward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, int, int, T, ReadOnlySpan{T})"/>)
/// against their full versions; bad needed rows give one-line errors.
/// </summary>
[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class NeededRowsTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly TransformerConfig Gpt = TransformerTests.Gpt with { NLayers = 2, NCtx = 6 };
    static readonly TransformerConfig AttentionOnly = TransformerTests.Gpt with { NLayers = 1, NCtx = 6, DMlp = null };

    static FixedTokenDataset<T> Dataset(int count, int batchSize)
    {
        var rng = new Rng(3);
        var sequences = new int[count * 6];
        for (int i = 0; i < sequences.Length; i++) sequences[i] = rng.NextInt(11);
        // Positions 1–3 scored (position 5 has no target): as in the sorting task, half the rows are not read.
        return new FixedTokenDataset<T>(sequences, 6, [T.Zero, T.One, T.One, T.One, T.Zero, T.Zero], batchSize, 7);
    }

    [Test]
    public void LossAndGradients_AreTheFullPassBitForBit([Values] bool attentionOnly, [Values(1, 3)] int parts)
    {
        var data = Dataset(50, 16);   // step 3 holds 2 lists and 14 padding rows (mask 0)
        var model = new Transformer<T>(attentionOnly ? AttentionOnly : Gpt, Initialization.Gpt2, new Rng(5));
        var fullBatch = new TokenBatch<T>(16, 6);
        var cutBatch = new TokenBatch<T>(16, 6);
        var full = MicroBatches.Of(model, fullBatch, parts, static (m, b) => m.Forward(b.Tokens).CrossEntropy(b.Targets, b.Mask));
        var cut = MicroBatches.Of(model, cutBatch, parts, TokenLoss.MaskedCrossEntropy);
        foreach (int step in new[] { 0, 3, 1 })   // recorded, then replayed with another mask
        {
            data.Fill(step, fullBatch);
            data.Fill(step, cutBatch);
            Assert.That(full.TryLossAndGradient(out double expectedLoss), Is.True);
            var expected = model.Parameters.All.Select(p => p.Grad.ToArray()).ToArray();
            Assert.That(cut.TryLossAndGradient(out double loss), Is.True);
            Assert.That(loss, Is.EqualTo(expectedLoss), $"step {step}: loss");
            for (int i = 0; i < expected.Length; i++)
                Assert.That(model.Parameters.All[i].Grad.ToArray(), Is.EqualTo(expected[i]).AsCollection, $"step {step}: {model.Parameters.All[i].Name}");
        }
    }

    [Test]
    public void ReadLogits_AreTheFullPass_OthersZero()
    {
        var model = new Transformer<T>(Gpt, Initialization.Gpt2, new Rng(8));
        var batch = new TokenBatch<T>(4, 6);
        Dataset(8, 4).Fill(0, batch);
        using var _ = GradMode.NoGrad();
        var full = model.Forward(batch.Tokens).Data.ToArray();
        var cut = model.Forward(batch.Tokens, outputs: batch.Mask).Data.ToArray();
        var mask = batch.Mask.ToArray();
        int vocab = Gpt.DVocabOut;
        for (int row = 0; row < mask.Length; row++)
        {
            var expected = mask[row] != T.Zero ? full.AsSpan(row * vocab, vocab).ToArray() : new T[vocab];
            Assert.That(cut.AsSpan(row * vocab, vocab).ToArray(), Is.EqualTo(expected).AsCollection, $"row {row}");
        }
    }

    [Test]
    public void Evaluator_GivesTheFullPassMetrics([Values(10, 400)] int batchSize, [Values(1, 2)] int threads)
    {
        // Without hooks the evaluator reads only the scored rows, in parts of ≈ RowsPerPart rows (400 lists of 6: 3 parts)
        // on the cores, with each row's statistics computed there: the metrics of one whole pass with hooks, to the bit.
        var model = new Transformer<T>(Gpt, Initialization.Gpt2, new Rng(9));
        var data = Dataset(437, batchSize);   // a short last batch: padding rows
        int saved = Forge.Kernels.Threading.ForkJoin.Threads;
        try
        {
            Forge.Kernels.Threading.ForkJoin.Threads = threads;
            var cut = new TokenEvaluator<T>(model, data, batchSize).Evaluate();
            var full = new TokenEvaluator<T>(model, data, batchSize, new Forge.Models.Hooks.HookSet<T>()).Evaluate();
            Assert.That((cut.Loss, cut.Accuracy, cut.MeanCorrectProbability, cut.MeanEntropy, cut.MeanConfidence, cut.Count),
                Is.EqualTo((full.Loss, full.Accuracy, full.MeanCorrectProbability, full.MeanEntropy, full.MeanConfidence, full.Count)));
            Assert.That(cut.Reliability, Is.EqualTo(full.Reliability).AsCollection);
            Assert.That(cut.Count, Is.EqualTo(437 * 3));
        }
        finally { Forge.Kernels.Threading.ForkJoin.Threads = saved; }
    }

    [Test]
    public void BadOutputs_GiveOneLineErrors()
    {
        var model = new Transformer<T>(Gpt, Initialization.Gpt2, new Rng(8));
        var tokens = Tensor.Zeros<int>(4, 6);
        Assert.Throws<ShapeException>(() => model.Forward(tokens, outputs: Tensor.Zeros<T>(4, 5)));
        var wide = Tensor.Zeros<T>(6, 4);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(tokens, outputs: wide.Transpose(0, 1)));
        Assert.That(e!.Message, Does.Contain("contiguous"));
    }

    static T[] Needed(int m, int pattern) =>
        Enumerable.Range(0, m).Select(i => pattern switch
        {
            0 => i % 21 is >= 10 and < 20,   // the sorting mask
            1 => i % 3 == 1,
            2 => i != 0,                      // almost every row: computed whole, the one row zeroed
            _ => false,                       // none
        } ? T.CreateChecked(0.5) : T.Zero).ToArray();

    [Test]
    public void LinearForwardOnRows_EqualsTheFullProductOnItsRows([Values(672, 257, 13)] int m, [Values(96, 7)] int k, [Values(52, 300)] int n,
        [Values] bool transW, [Values(0, 1, 2, 3)] int pattern)
    {
        var (x, w, bias) = (Uniform.Values<T>(m * k, 1), Uniform.Values<T>(k * n, 2), Uniform.Values<T>(n, 3));
        int ldw = transW ? k : n;
        var needed = Needed(m, pattern);
        var full = new T[m * n];
        Gemm.RunWithBias(false, transW, m, n, k, T.One, x, k, w, ldw, bias, full, n);
        var cut = Enumerable.Repeat(T.NaN, m * n).ToArray();   // stale contents are never kept
        Gemm.LinearForwardOnRows<T>(m, n, k, x, w, transW, ldw, bias, cut, needed);
        for (int i = 0; i < m; i++)
        {
            var expected = needed[i] != T.Zero ? full.AsSpan(i * n, n).ToArray() : new T[n];
            Assert.That(cut.AsSpan(i * n, n).ToArray(), Is.EqualTo(expected).AsCollection, $"row {i}");
        }
        Assert.Throws<ArgumentException>(() => Gemm.LinearForwardOnRows<T>(m, n, k, x, w, transW, ldw, bias, cut, needed.AsSpan(0, m - 1)));
    }

    [Test]
    public void LayerNormForwardOnRows_EqualsTheFullForwardOnItsRows([Values(672, 13)] int n, [Values(96, 5)] int d, [Values(0, 1, 3)] int pattern)
    {
        var (x, w, b) = (Uniform.Values<T>(n * d, 4), Uniform.Values<T>(d, 5), Uniform.Values<T>(d, 6));
        var needed = Needed(n, pattern);
        var (y, mean, rstd) = (new T[n * d], new T[n], new T[n]);
        LayerNorm.Forward<T>(x, w, b, y, mean, rstd, n, d, T.CreateChecked(1e-5));
        var (cutY, cutMean, cutRstd) = (Enumerable.Repeat(T.NaN, n * d).ToArray(), new T[n], new T[n]);
        LayerNorm.Forward<T>(x, w, b, cutY, cutMean, cutRstd, n, d, T.CreateChecked(1e-5), needed);
        for (int i = 0; i < n; i++)
        {
            bool read = needed[i] != T.Zero;
            Assert.That(cutY.AsSpan(i * d, d).ToArray(), Is.EqualTo(read ? y.AsSpan(i * d, d).ToArray() : new T[d]).AsCollection, $"row {i}");
            Assert.That((cutMean[i], cutRstd[i]), Is.EqualTo(read ? (mean[i], rstd[i]) : (T.Zero, T.Zero)), $"row {i}'s statistics");
        }
        // A skipped row (rstd 0) gets a zero gradient, whatever dy holds there.
        var (dx, dw, db) = (new T[n * d], new T[d], new T[d]);
        var dy = Uniform.Values<T>(n * d, 7);
        for (int i = 0; i < n; i++) if (needed[i] == T.Zero) dy.AsSpan(i * d, d).Clear();
        LayerNorm.Backward<T>(dy, x, w, cutMean, cutRstd, dx, dw, db, n, d);
        for (int i = 0; i < n; i++)
            if (needed[i] == T.Zero) Assert.That(dx.AsSpan(i * d, d).ToArray(), Is.All.EqualTo(T.Zero), $"dx row {i}");
    }
}
