using Forge.Autograd;

namespace Forge.Tests.Autograd;

public class TapeTests
{
    static Tensor<double> Normal(Rng rng, params int[] shape) => Tensor.Normal(rng, 0.0, 1.0, shape);

    [Test]
    public void ReplayAfterRefillingInputsEqualsAFreshEagerPass()
    {
        var rng = new Rng(1);
        var w = Var<double>.Parameter(Normal(rng, 4, 3));
        var input = Normal(rng, 5, 4);
        var x = Var<double>.Constant(input);
        var tape = new Tape<double>();
        Var<double> loss;
        using (tape.Record()) loss = x.MatMul(w).Tanh().Square().Mean();

        var newInput = Normal(rng, 5, 4);
        newInput.AsSpan().CopyTo(input.AsSpan());   // refill the recorded input in place
        tape.Replay();
        w.ZeroGrad();
        tape.Backward(loss);
        var replayedGrad = w.Grad.ToArray();

        var fresh = Var<double>.Parameter(w.Data.Clone());
        var freshTape = new Tape<double>();
        Var<double> freshLoss;
        using (freshTape.Record()) freshLoss = Var<double>.Constant(newInput).MatMul(fresh).Tanh().Square().Mean();
        freshTape.Backward(freshLoss);

        Assert.That(loss.Item(), Is.EqualTo(freshLoss.Item()));
        Assert.That(replayedGrad, Is.EqualTo(fresh.Grad.ToArray()));
    }

    // A small residual network whose sums Seal must tell apart: a = x·W is read by r = a + b alone and u = gelu(r) by
    // v = u + r alone (both pass through); r is read three times, b is broadcast, v is read twice by v·v (none do).
    sealed record Residual(Var<double> W, Var<double> B, Var<double> A, Var<double> R, Var<double> U, Var<double> V, Var<double> Loss, Tape<double> Tape);

    static Residual BuildResidual(bool seal)
    {
        var rng = new Rng(4);
        var w = Var<double>.Parameter(Normal(rng, 4, 3));
        var b = Var<double>.Parameter(Normal(rng, 3));           // broadcast over rows: never shares the sum's [5, 3] buffer
        var x = Var<double>.Constant(Normal(rng, 5, 4));
        var tape = new Tape<double>();
        Var<double> a, r, u, v, loss;
        using (tape.Record())
        {
            a = x.MatMul(w);
            r = a + b;
            u = r.Gelu();
            v = u + r;
            loss = (v * v).Mean() + (r + r).Mean();              // r + r: one var twice, not passed through
        }
        if (seal) tape.Seal();
        return new Residual(w, b, a, r, u, v, loss, tape);
    }

    [Test]
    public void SealedTape_PassesSumGradientsThrough_SameBits()
    {
        var plain = BuildResidual(seal: false);
        var sealedNet = BuildResidual(seal: true);
        for (int pass = 0; pass < 2; pass++)   // backward, then a replay and backward again
        {
            foreach (var net in new[] { plain, sealedNet })
            {
                if (pass > 0) net.Tape.Replay();
                net.W.ZeroGrad();
                net.B.ZeroGrad();
                net.Tape.Backward(net.Loss);
            }
            Assert.That(sealedNet.W.Grad.ToArray(), Is.EqualTo(plain.W.Grad.ToArray()), "dW");
            Assert.That(sealedNet.B.Grad.ToArray(), Is.EqualTo(plain.B.Grad.ToArray()), "db");
            foreach (var (name, s, p) in new[] { ("a", sealedNet.A, plain.A), ("r", sealedNet.R, plain.R), ("u", sealedNet.U, plain.U), ("v", sealedNet.V, plain.V) })
                Assert.That(s.Grad.ToArray(), Is.EqualTo(p.Grad.ToArray()), $"d{name}: every intermediate still ends with its gradient");
        }
        Assert.That(sealedNet.A.Grad, Is.SameAs(sealedNet.R.Grad), "a is read by r = a + b alone: its gradient is r's buffer");
        Assert.That(sealedNet.U.Grad, Is.SameAs(sealedNet.V.Grad), "u is read by v = u + r alone");
        Assert.That(sealedNet.R.Grad, Is.Not.SameAs(sealedNet.V.Grad), "r is read three times");
        Assert.That(plain.A.Grad, Is.Not.SameAs(plain.R.Grad), "an unsealed tape copies");
    }

    [Test]
    public void SealedTape_RefusesMoreOps_UntilCleared()
    {
        var net = BuildResidual(seal: true);
        Assert.That(net.Tape.IsSealed, Is.True);
        var ex = Assert.Throws<InvalidOperationException>(() => { using (net.Tape.Record()) _ = net.V.Gelu(); });
        Assert.That(ex!.Message, Does.Contain("sealed"));
        net.Tape.Clear();
        Assert.That(net.Tape.IsSealed, Is.False);
        using (net.Tape.Record()) _ = net.V.Gelu();
        Assert.That(net.Tape.Ops, Has.Count.EqualTo(1));
    }

    [Test]
    public void LeafGradientsAccumulateAcrossBackwardPassesUntilZeroed()
    {
        var w = Var<double>.Parameter(Tensor.FromArray(new[] { 2.0 }, [1]));
        var tape = new Tape<double>();
        Var<double> y;
        using (tape.Record()) y = (w * w).Sum();   // dy/dw = 2w = 4
        tape.Backward(y);
        tape.Backward(y);
        Assert.That(w.Grad.ToArray()[0], Is.EqualTo(8.0));
        w.ZeroGrad();
        tape.Backward(y);
        Assert.That(w.Grad.ToArray()[0], Is.EqualTo(4.0));
    }

    [Test]
    public void BackwardFromASeedIsAVectorJacobianProduct()
    {
        var rng = new Rng(2);
        var x = Var<double>.Parameter(Normal(rng, 3));
        var tape = new Tape<double>();
        Var<double> y;
        using (tape.Record()) y = x.Exp();   // J = diag(eˣ)
        var seed = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }, [3]);
        tape.Backward(y, seed);
        var expected = x.Data.ToArray().Select((v, i) => (i + 1) * Math.Exp(v)).ToArray();
        Assert.That(x.Grad.ToArray(), Is.EqualTo(expected).Within(1e-14));
    }

    [Test]
    public void NoGradRecordsNothingAndNeedsNoGradient()
    {
        var w = Var<double>.Parameter(Tensor.Ones<double>(2));
        var tape = new Tape<double>();
        Var<double> y;
        using (tape.Record())
        using (GradMode.NoGrad())
            y = (w * w).Sum();
        Assert.That(tape.Ops, Is.Empty);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
    }

    [Test]
    public void NonScalarOutputWithoutSeedIsRefused()
    {
        var w = Var<double>.Parameter(Tensor.Ones<double>(2));
        var tape = new Tape<double>();
        Var<double> y;
        using (tape.Record()) y = w.Exp();
        Assert.That(Assert.Throws<ShapeException>(() => tape.Backward(y))!.Message, Does.Contain("not a scalar"));
    }

    [Test]
    public void ShapeErrorsFromOpsNameTheOpAndShapes()
    {
        var a = Var<double>.Constant(Tensor.Zeros<double>(2, 3));
        var b = Var<double>.Constant(Tensor.Zeros<double>(4, 5));
        Assert.That(Assert.Throws<ShapeException>(() => a.MatMul(b))!.Message, Does.Contain("MatMul").And.Contain("[2, 3]").And.Contain("[4, 5]"));
        Assert.That(Assert.Throws<ShapeException>(() => _ = a + b)!.Message, Does.Contain("Add").And.Contain("[2, 3]"));
    }

    [Test]
    public void BatchedVjpGivesTheJacobianOfAPerSampleFunction()
    {
        // f(x) = tanh(x·W) per row; J = diag(1 − y²)·Wᵀ, checked against one-at-a-time seeds.
        var rng = new Rng(3);
        var w = Var<double>.Constant(Normal(rng, 4, 4));
        Func<Var<double>, Var<double>> f = x => x.MatMul(w).Tanh();
        var x0 = Normal(rng, 1, 4);
        var jacobian = Jacobians.Jacobian(f, x0);   // [4 out, 4 in]
        Assert.That(jacobian.Shape, Is.EqualTo(new[] { 4, 4 }));

        var y = x0.ToArray().Length; // 4
        var xs = x0.ToArray();
        var wd = w.Data;
        for (int i = 0; i < 4; i++)
        {
            double pre = 0;
            for (int j = 0; j < 4; j++) pre += xs[j] * wd[j, i];
            double dtanh = 1 - Math.Tanh(pre) * Math.Tanh(pre);
            for (int j = 0; j < y; j++) Assert.That(jacobian[i, j], Is.EqualTo(dtanh * wd[j, i]).Within(1e-12));
        }
    }
}
