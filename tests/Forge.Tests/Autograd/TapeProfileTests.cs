using Forge.Autograd;

namespace Forge.Tests.Autograd;

public class TapeProfileTests
{
    [Test]
    public void ProfiledStepsDoTheSameWorkAsReplayAndBackwardAndNameEveryOp()
    {
        var rng = new Rng(3);
        var w = Var<double>.Parameter(Tensor.Normal(rng, 0.0, 1.0, 4, 3));
        var x = Var<double>.Constant(Tensor.Normal(rng, 0.0, 1.0, 5, 4));
        var tape = new Tape<double>();
        Var<double> loss;
        using (tape.Record()) loss = x.MatMul(w).Tanh().Square().Mean();

        w.ZeroGrad();
        tape.Backward(loss);
        var expected = w.Grad.ToArray();

        int updates = 0;
        w.ZeroGrad();
        var rows = TapeProfile.Measure(tape, loss, () => updates++, steps: 4, warmup: 1);
        // 5 backward passes accumulated into the leaf: 5 × the gradient of one.
        Assert.That(w.Grad.ToArray(), Is.EqualTo(expected.Select(g => 5 * g).ToArray()).Within(1e-12));
        Assert.That(updates, Is.EqualTo(5));
        var names = rows.Select(r => (r.Op, r.Direction)).ToHashSet();
        foreach (var op in tape.Ops)
        {
            Assert.That(names, Does.Contain((op.Name, "forward")));
            Assert.That(names, Does.Contain((op.Name, "backward")));
        }
        Assert.That(names, Does.Contain(("(optimizer)", "update")));
        Assert.That(rows.All(r => r.CallsPerStep >= 1 && r.MillisecondsPerStep >= 0), Is.True);
        Assert.That(rows.Select(r => r.MillisecondsPerStep), Is.Ordered.Descending);
        Assert.Throws<ShapeException>(() => TapeProfile.Measure(tape, tape.Ops[0].Output));
    }
}
