using Forge.Autograd;
using Forge.Autograd.Optim;

namespace Forge.Tests.Autograd;

/// <summary>
/// End-to-end: a 1-layer attention-only transformer (the sorting paper's base shape: 2 heads,
/// d_model 96, d_head 48, LayerNorm, learned positions) built from autograd ops, trained with Adam on
/// sorting lists of 10 numbers from 0..50, through the allocation-free replay path. The validation
/// loss must fall by more than half.
/// </summary>
public class SortingTransformerTrainingTest
{
    const int ListLength = 10, MaxValue = 50, Vocab = MaxValue + 2, Context = 2 * ListLength + 1;
    const int DModel = 96, Heads = 2, DHead = 48, Batch = 128, Steps = 300;

    sealed class Model
    {
        public readonly Var<float> WE, WPos, Ln1W, Ln1B, WQ, WK, WV, BQ, BK, BV, WO, BO, LnfW, LnfB, WU, BU;

        public Model(Rng rng)
        {
            float std = 0.8f / MathF.Sqrt(DModel);
            Var<float> Weight(params int[] shape) => Var<float>.Parameter(Tensor.Normal(rng, 0f, std, shape));
            Var<float> Zeros(params int[] shape) => Var<float>.Parameter(Tensor.Zeros<float>(shape));
            Var<float> Ones(params int[] shape) => Var<float>.Parameter(Tensor.Ones<float>(shape));
            (WE, WPos) = (Weight(Vocab, DModel), Weight(Context, DModel));
            (Ln1W, Ln1B) = (Ones(DModel), Zeros(DModel));
            (WQ, WK, WV) = (Weight(DModel, Heads * DHead), Weight(DModel, Heads * DHead), Weight(DModel, Heads * DHead));
            (BQ, BK, BV) = (Zeros(Heads * DHead), Zeros(Heads * DHead), Zeros(Heads * DHead));
            (WO, BO) = (Weight(Heads * DHead, DModel), Zeros(DModel));
            (LnfW, LnfB) = (Ones(DModel), Zeros(DModel));
            (WU, BU) = (Weight(DModel, Vocab), Zeros(Vocab));
        }

        public IEnumerable<Var<float>> Parameters => [WE, WPos, Ln1W, Ln1B, WQ, WK, WV, BQ, BK, BV, WO, BO, LnfW, LnfB, WU, BU];

        public Var<float> Loss(Tensor<int> tokens, Tensor<int> targets, Tensor<float> mask)
        {
            int batch = tokens.Size(0);
            var residual = WE.Embedding(tokens) + WPos;                                // [b, t, d]
            var normalized = residual.LayerNorm(Ln1W, Ln1B);
            var q = (normalized.MatMul(WQ) + BQ).Reshape(batch, Context, Heads, DHead);
            var k = (normalized.MatMul(WK) + BK).Reshape(batch, Context, Heads, DHead);
            var v = (normalized.MatMul(WV) + BV).Reshape(batch, Context, Heads, DHead);
            var z = Functional.CausalAttention(q, k, v).Z.Reshape(batch, Context, Heads * DHead);
            residual += z.MatMul(WO) + BO;
            var logits = residual.LayerNorm(LnfW, LnfB).MatMul(WU) + BU;              // [b, t, vocab]
            return logits.CrossEntropy(targets, mask);
        }
    }

    /// <summary>Fills [a₁…a₁₀, SEP, sorted(a)] sequences, next-token targets and the mask of sorted-list predictions.</summary>
    static void FillBatch(Rng rng, Tensor<int> tokens, Tensor<int> targets, Tensor<float> mask)
    {
        var t = tokens.AsSpan();
        var y = targets.AsSpan();
        var m = mask.AsSpan();
        Span<int> list = stackalloc int[ListLength];
        for (int b = 0; b < tokens.Size(0); b++)
        {
            rng.SampleWithoutReplacement(MaxValue + 1, list);
            var row = t.Slice(b * Context, Context);
            list.CopyTo(row);
            row[ListLength] = MaxValue + 1; // SEP
            list.Sort();
            list.CopyTo(row[(ListLength + 1)..]);
            for (int p = 0; p < Context; p++)
            {
                y[b * Context + p] = p + 1 < Context ? row[p + 1] : 0;
                m[b * Context + p] = p >= ListLength && p < Context - 1 ? 1f : 0f; // SEP and b₁…b₉ predict the sorted list
            }
        }
    }

    [Test]
    public void ValidationLossFallsByMoreThanHalf()
    {
        var model = new Model(new Rng(0));
        var dataRng = new Rng(1);
        var (valTokens, valTargets, valMask) = (Tensor.Zeros<int>(512, Context), Tensor.Zeros<int>(512, Context), Tensor.Zeros<float>(512, Context));
        FillBatch(new Rng(99), valTokens, valTargets, valMask);
        float ValidationLoss()
        {
            using (GradMode.NoGrad()) return model.Loss(valTokens, valTargets, valMask).Item();
        }

        float before = ValidationLoss();
        var (tokens, targets, mask) = (Tensor.Zeros<int>(Batch, Context), Tensor.Zeros<int>(Batch, Context), Tensor.Zeros<float>(Batch, Context));
        FillBatch(dataRng, tokens, targets, mask);
        var tape = new Tape<float>();
        Var<float> loss;
        using (tape.Record()) loss = model.Loss(tokens, targets, mask);
        var optimizer = new Adam<float>(model.Parameters, learningRate: 1e-3, weightDecay: 0.005);
        for (int step = 0; step < Steps; step++)
        {
            if (step > 0)
            {
                FillBatch(dataRng, tokens, targets, mask); // new data into the recorded input tensors
                tape.Replay();
            }
            optimizer.ZeroGrad();
            tape.Backward(loss);
            optimizer.Step();
            Assert.That(float.IsFinite(loss.Item()), $"loss became {loss.Item()} at step {step}");
        }
        float after = ValidationLoss();
        TestContext.Out.WriteLine($"validation loss {before:F4} → {after:F4} after {Steps} steps");
        Assert.That(after, Is.LessThan(before / 2), $"validation loss {before:F4} → {after:F4}");
    }
}
