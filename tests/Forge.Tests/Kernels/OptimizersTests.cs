using System.Numerics;
using Forge.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Kernels;

[TestFixture(TypeArgs = [typeof(float)])]
[TestFixture(TypeArgs = [typeof(double)])]
public class OptimizersTests<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static readonly double Tol = Tolerance<T>();

    static T V(double value) => T.CreateChecked(value);

    /// <summary>Gradients for three steps of a two-element parameter starting at (1, −2).</summary>
    static readonly double[][] Gradients = [[0.5, 0.25], [-0.3, 0.1], [0.2, -0.4]];

    // Expected parameters after each step, computed by hand (in double, in Python) from the
    // torch.optim formulas quoted in the Optimizers doc comments.
    static readonly double[][] SgdExpected =
        [[0.949, -2.023], [0.932151, -2.051677], [0.8960547489999999, -2.035434623]];
    static readonly double[][] AdamExpected =
        [[0.9900000001666667, -2.0099999980000005], [0.9860115861622782, -2.006302018016164], [0.9804955265761179, -1.9994964647031348]];
    static readonly double[][] AdamWExpected =
        [[0.9890000002, -2.0079999996], [0.9860960198939775, -2.014977751174087], [0.9816356470589943, -2.011538159492245]];

    [Test]
    public void Sgd_ThreeSteps_MatchTorchFormula()
    {
        T[] param = [V(1), V(-2)];
        var buffer = new T[2];
        for (int step = 0; step < 3; step++)
        {
            Optimizers.Sgd<T>(param, FromDouble<T>(Gradients[step]), buffer, lr: V(0.1), momentum: V(0.9), weightDecay: V(0.01));
            KernelAssert.Close<T>(FromDouble<T>(SgdExpected[step]), param, 2 * Tol, $"step {step + 1}");
        }
    }

    [Test]
    public void Adam_ThreeSteps_MatchTorchFormula([Values] bool decoupled)
    {
        T[] param = [V(1), V(-2)];
        var (m, v) = (new T[2], new T[2]);
        for (int step = 1; step <= 3; step++)
        {
            var grad = FromDouble<T>(Gradients[step - 1]);
            if (decoupled) Optimizers.AdamW<T>(param, grad, m, v, V(0.01), V(0.9), V(0.999), V(1e-8), V(0.1), step);
            else Optimizers.Adam<T>(param, grad, m, v, V(0.01), V(0.9), V(0.999), V(1e-8), V(0.1), step);
            var expected = (decoupled ? AdamWExpected : AdamExpected)[step - 1];
            KernelAssert.Close<T>(FromDouble<T>(expected), param, 2 * Tol, $"step {step}");
        }
    }

    [Test]
    public void AllUpdates_MatchReference([Values(1, 7, 33, 127, 70_001)] int n)
    {
        var grads = new[] { Uniform<T>(n, seed: 1), Uniform<T>(n, seed: 2), Uniform<T>(n, seed: 3) };
        var start = Uniform<T>(n, seed: 4);
        foreach (string kind in new[] { "Sgd", "SgdNoMomentum", "Adam", "AdamW", "AdamLargeLerp" })
        {
            var (expectedP, actualP) = ((T[])start.Clone(), (T[])start.Clone());
            var (expectedM, actualM, expectedV, actualV) = (new T[n], new T[n], new T[n], new T[n]);
            for (int step = 1; step <= 3; step++)
            {
                var g = grads[step - 1];
                switch (kind)
                {
                    case "Sgd":
                        OptimizersReference.Sgd(expectedP, g, expectedM, V(0.05), V(0.9), V(0.01));
                        Optimizers.Sgd(actualP, g, actualM, V(0.05), V(0.9), V(0.01));
                        break;
                    case "SgdNoMomentum":
                        OptimizersReference.Sgd(expectedP, g, [], V(0.05), T.Zero, T.Zero);
                        Optimizers.Sgd(actualP, g, [], V(0.05), T.Zero, T.Zero);
                        break;
                    case "Adam":
                        OptimizersReference.Adam(expectedP, g, expectedM, expectedV, V(1e-3), V(0.9), V(0.95), V(1e-8), V(0.1), step);
                        Optimizers.Adam(actualP, g, actualM, actualV, V(1e-3), V(0.9), V(0.95), V(1e-8), V(0.1), step);
                        break;
                    case "AdamW":
                        OptimizersReference.AdamW(expectedP, g, expectedM, expectedV, V(1e-3), V(0.9), V(0.95), V(1e-8), V(0.1), step);
                        Optimizers.AdamW(actualP, g, actualM, actualV, V(1e-3), V(0.9), V(0.95), V(1e-8), V(0.1), step);
                        break;
                    default: // β₁ < 0.5 takes torch's other lerp formula
                        OptimizersReference.Adam(expectedP, g, expectedM, expectedV, V(1e-3), V(0.3), V(0.95), V(1e-8), T.Zero, step);
                        Optimizers.Adam(actualP, g, actualM, actualV, V(1e-3), V(0.3), V(0.95), V(1e-8), T.Zero, step);
                        break;
                }
            }
            KernelAssert.Close<T>(expectedP, actualP, Tol, $"{kind} param");
            KernelAssert.Close<T>(expectedM, actualM, Tol, $"{kind} m");
            KernelAssert.Close<T>(expectedV, actualV, Tol, $"{kind} v");
        }
    }

    [Test]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => Optimizers.Sgd<T>(new T[3], new T[2], [], V(1), T.Zero, T.Zero));
        Assert.Throws<ArgumentException>(() => Optimizers.Sgd<T>(new T[3], new T[3], new T[2], V(1), T.Zero, T.Zero));
        var ex = Assert.Throws<ArgumentException>(() =>
            Optimizers.AdamW<T>(new T[3], new T[3], new T[3], new T[3], V(1), V(0.9), V(0.99), V(1e-8), T.Zero, 0));
        Assert.That(ex!.Message, Does.Contain("Optimizers.AdamW").And.Contain("step"));
    }
}
