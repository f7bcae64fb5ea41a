using Forge.Autograd;
using Forge.Autograd.Optim;

namespace Forge.Tests.Autograd;

public class OptimizerTests
{
    [Test]
    public void SgdWithMomentumAndDecayFollowsTorchFormulas()
    {
        // torch.optim.SGD: g ← g + wd·p; b ← μ·b + g (b = g at the first step); p ← p − lr·b
        var p = Var<double>.Parameter(Tensor.FromArray(new[] { 1.0, -2.0 }, [2]), "p");
        var sgd = new Sgd<double>([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01);
        double[] w = [1.0, -2.0], buffer = [0, 0];
        for (int step = 0; step < 3; step++)
        {
            var tape = new Tape<double>();
            Var<double> loss;
            using (tape.Record()) loss = (p * p).Sum();   // ∇ = 2p
            sgd.ZeroGrad();
            tape.Backward(loss);
            sgd.Step();
            for (int i = 0; i < 2; i++)
            {
                double g = 2 * w[i] + 0.01 * w[i];
                buffer[i] = step == 0 ? g : 0.9 * buffer[i] + g;
                w[i] -= 0.1 * buffer[i];
            }
        }
        Assert.That(p.Data.ToArray(), Is.EqualTo(w).Within(1e-12));
        Assert.That(sgd.State().Select(s => s.Item1), Is.EqualTo(new[] { "p.momentum" }));
    }

    [Test]
    public void OptimizersRefuseNonParameters()
    {
        var constant = Var<double>.Constant(Tensor.Zeros<double>(2));
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam<double>([constant], 1e-3))!.Message, Does.Contain("requires grad"));
    }
}
