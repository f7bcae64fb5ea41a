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
