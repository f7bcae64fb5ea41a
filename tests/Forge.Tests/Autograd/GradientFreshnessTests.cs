using Forge.Autograd;

namespace Forge.Tests.Autograd;

/// <summary>
/// Backward does not zero the intermediate gradients up front: the first contribution overwrites a stale
/// buffer (GradientState). These tests poison every intermediate gradient with NaN between passes and check
/// that nothing stale is ever read: the parameters' gradients and every intermediate's gradient equal those of
/// a brand-new tape, including an intermediate read by several ops (overwrite, then accumulate), a partial view
/// (narrow: the rest of the buffer must be 0), a gradient shared by a reshape, a broadcast operand, and a
/// branch that never reaches the loss (its gradient must be 0, not stale).
/// </summary>
public class GradientFreshnessTests
{
    sealed record Graph(Var<double>[] Parameters, Var<double> Loss, Var<double> Unreached);

    static Graph Build(Tensor<double> w1, Tensor<double> w2, Tensor<double> b, Tensor<double> gamma, Tensor<double> input)
    {
        var p1 = Var<double>.Parameter(w1.Clone());
        var p2 = Var<double>.Parameter(w2.Clone());
        var pb = Var<double>.Parameter(b.Clone());
        var pg = Var<double>.Parameter(gamma.Clone());
        var x = Var<double>.Constant(input);
        var h = x.Linear(p1, pb).Tanh();                       // [5, 6]: read by four ops below
        var unreached = (h * 3.0).Exp();                       // requires grad, never reaches the loss
        var mixed = h.MatMul(p2) + h.Narrow(1, 1, 4);          // MatMul writes h's gradient first, narrow adds a part
        var normed = mixed.LayerNorm(pg, pb.Narrow(0, 0, 4));
        var reshaped = normed.Reshape(4, 5);                   // shares its input's gradient buffer
        var scaled = reshaped * h.Narrow(1, 0, 1).Reshape(1, 5); // a broadcast operand
        var loss = (scaled.Square().Mean() + (h * h).Sum() * 0.01) - (mixed * 0.5).Mean();
        return new Graph([p1, p2, pb, pg], loss, unreached);
    }

    [Test]
    public void StaleIntermediateGradientsAreNeverRead()
    {
        var rng = new Rng(11);
        var w1 = Tensor.Normal(rng, 0.0, 1.0, [3, 6]);
        var w2 = Tensor.Normal(rng, 0.0, 1.0, [6, 4]);
        var b = Tensor.Normal(rng, 0.0, 1.0, [6]);
        var gamma = Tensor.Normal(rng, 1.0, 0.2, [4]);
        var input = Tensor.Normal(rng, 0.0, 1.0, [5, 3]);

        var tape = new Tape<double>();
        Graph graph;
        using (tape.Record()) graph = Build(w1, w2, b, gamma, input);

        for (int pass = 0; pass < 3; pass++)
        {
            foreach (var op in tape.Ops)
                if (op.Output.RequiresGrad) op.Output.Grad.AsSpan().Fill(double.NaN);   // stale garbage
            foreach (var p in graph.Parameters) p.ZeroGrad();
            tape.Replay();
            tape.Backward(graph.Loss);

            var reference = new Tape<double>();
            Graph expected;
            using (reference.Record()) expected = Build(w1, w2, b, gamma, input);
            reference.Backward(expected.Loss);

            for (int i = 0; i < graph.Parameters.Length; i++)
                Assert.That(graph.Parameters[i].Grad.ToArray(), Is.EqualTo(expected.Parameters[i].Grad.ToArray()), $"pass {pass}, parameter {i}");
            for (int i = 0; i < tape.Ops.Count; i++)
            {
                var actual = tape.Ops[i].Output;
                if (!actual.RequiresGrad) continue;
                Assert.That(actual.Grad.ToArray(), Is.EqualTo(reference.Ops[i].Output.Grad.ToArray()), $"pass {pass}, op {i} ({tape.Ops[i].Name})");
            }
            Assert.That(graph.Unreached.Grad.ToArray(), Is.All.EqualTo(0.0), "a value that never reaches the loss has gradient 0");
        }
    }

    [Test]
    public void AFreshGradientIsWrittenOnceThenAccumulated()
    {
        // y = x·w used twice: dL/dx = (d1 + d2)·wᵀ must sum both contributions after the first overwrote the buffer.
        var rng = new Rng(12);
        var w = Var<double>.Parameter(Tensor.Normal(rng, 0.0, 1.0, [4, 4]));
        var x = Var<double>.Parameter(Tensor.Normal(rng, 0.0, 1.0, [2, 4]));
        var tape = new Tape<double>();
        Var<double> hidden, loss;
        using (tape.Record())
        {
            hidden = x.MatMul(w);
            loss = (hidden.MatMul(w).Sum() + hidden.Square().Sum()) * 0.5;
        }
        hidden.Grad.AsSpan().Fill(double.NaN);
        tape.Backward(loss);

        // dL/dhidden = ½(1·wᵀ summed over columns) + hidden, analytically.
        var h = hidden.Data.ToArray();
        var wArray = w.Data.ToArray();
        var grad = hidden.Grad.ToArray();
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 4; c++)
            {
                double rowSum = 0;
                for (int j = 0; j < 4; j++) rowSum += wArray[c * 4 + j];
                Assert.That(grad[r * 4 + c], Is.EqualTo(0.5 * rowSum + h[r * 4 + c]).Within(1e-12));
            }
    }

    // x → Linear → GELU → LayerNorm → attention with q = v (one Var passed twice) → Linear → cross-entropy:
    // each of GELU, LayerNorm, attention and cross-entropy is the first writer of its input's gradient. The
    // attention kernel writes dv before dq, so with q = v the dv write must be the overwriting one. The
    // reference (aliased: false) passes v as a separate Var (q·1), so its dq and dv land in separate buffers.
    static Graph BuildOverwriting(Tensor<double> w1, Tensor<double> b1, Tensor<double> gamma, Tensor<double> w2, Tensor<double> input,
        Tensor<int> targets, Tensor<double> mask, bool aliased)
    {
        var p1 = Var<double>.Parameter(w1.Clone());
        var pb = Var<double>.Parameter(b1.Clone());
        var pg = Var<double>.Parameter(gamma.Clone());
        var p2 = Var<double>.Parameter(w2.Clone());
        var x = Var<double>.Constant(input);                                   // [2, 5, 3]
        var h = x.Linear(p1, pb).Gelu();                                       // [2, 5, 8]
        var normed = h.LayerNorm(pg, pb);                                      // [2, 5, 8]
        var qv = normed.Reshape(2, 5, 2, 4);
        var k = h.Reshape(2, 5, 2, 4);                                         // h: read by LayerNorm and as k
        var (z, _, _) = Functional.CausalAttention(qv, k, aliased ? qv : qv * 1.0);
        var logits = z.Reshape(2, 5, 8).MatMul(p2);                            // [2, 5, 6]
        var loss = logits.Reshape(10, 6).CrossEntropy(targets, mask);
        return new Graph([p1, pb, pg, p2], loss, h);
    }

    [Test]
    public void OverwritingBackwardKernelsNeverReadStaleGradients()
    {
        var rng = new Rng(13);
        var w1 = Tensor.Normal(rng, 0.0, 1.0, [3, 8]);
        var b1 = Tensor.Normal(rng, 0.0, 1.0, [8]);
        var gamma = Tensor.Normal(rng, 1.0, 0.2, [8]);
        var w2 = Tensor.Normal(rng, 0.0, 1.0, [8, 6]);
        var input = Tensor.Normal(rng, 0.0, 1.0, [2, 5, 3]);
        var targets = new Tensor<int>([10]);
        for (int i = 0; i < 10; i++) targets.AsSpan()[i] = (3 * i + 1) % 6;
        var mask = new Tensor<double>([10]);
        for (int i = 0; i < 10; i++) mask.AsSpan()[i] = i % 4 == 2 ? 0 : 1;   // masked rows get a zero gradient

        var tape = new Tape<double>();
        Graph graph;
        using (tape.Record()) graph = BuildOverwriting(w1, b1, gamma, w2, input, targets, mask, aliased: true);

        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var op in tape.Ops)
                if (op.Output.RequiresGrad) op.Output.Grad.AsSpan().Fill(double.NaN);
            foreach (var p in graph.Parameters) p.ZeroGrad();
            tape.Replay();
            tape.Backward(graph.Loss);

            var reference = new Tape<double>();
            Graph expected;
            using (reference.Record()) expected = BuildOverwriting(w1, b1, gamma, w2, input, targets, mask, aliased: false);
            reference.Backward(expected.Loss);

            for (int i = 0; i < graph.Parameters.Length; i++)
                Assert.That(graph.Parameters[i].Grad.ToArray(), Is.EqualTo(expected.Parameters[i].Grad.ToArray()), $"pass {pass}, parameter {i}");
            Assert.That(graph.Unreached.Grad.ToArray(), Is.EqualTo(expected.Unreached.Grad.ToArray()), $"pass {pass}, GELU output");
        }
        Assert.That(graph.Parameters[0].Grad.ToArray(), Is.All.Not.NaN);
    }
}
