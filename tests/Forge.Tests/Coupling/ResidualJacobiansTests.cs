using Forge.Autograd;
using Forge.Experiments.Coupling;
using Forge.Models.Transformers;

namespace Forge.Tests.Coupling;

/// <summary>The residual Jacobians against central finite differences in float64, and the trajectory statistics on paths with known shapes.</summary>
public class ResidualJacobiansTests
{
    static Transformer<double> Model(string? mlp = "mlp") => new(new TransformerConfig
    {
        NLayers = 2, NHeads = 2, DModel = 8, DHead = 4, DMlp = mlp is null ? null : 16, NCtx = 6, DVocab = 11, DVocabOut = 11, Normalization = "LN",
    }, Initialization.PyTorch, new Rng(5));

    /// <summary>f(X)_t = block(X)_t − x_t with every other position of X fixed.</summary>
    static double[] ResidualAt(TransformerBlock<double> block, Tensor<double> input, int position)
    {
        using var _ = GradMode.NoGrad();
        var output = block.Forward(Var<double>.Constant(input), null).Data.ToArray();
        var x = input.ToArray();
        int d = input.Size(2);
        return Enumerable.Range(0, d).Select(i => output[position * d + i] - x[position * d + i]).ToArray();
    }

    [TestCase(true, 0)]
    [TestCase(true, 3)]
    [TestCase(true, 5)]
    [TestCase(false, 5)]
    public void JacobiansMatchCentralDifferences(bool withMlp, int position)
    {
        var model = Model(withMlp ? "mlp" : null);
        int[] tokens = [3, 1, 4, 1, 5, 9];
        // Every block at `position`; block 1 also at position 1 (when that is another position).
        int[] positions = position > 1 ? [1, position] : [position];
        var result = ResidualJacobians.Of(model, tokens, positions, tokenLayer: 1);
        for (int l = 0; l < model.Config.NLayers; l++) CheckAgainstDifferences(model, result, l, position, result.AtLast[l]);
        CheckAgainstDifferences(model, result, 1, positions[0], result.AtTokenLayer[0]);
    }

    [Test]
    public void JacobiansOfAContinuousInputModelMatchCentralDifferences()
    {
        // The affine experiment's kind of model: real inputs [positions, d_in = 1] read in by W_E.
        var model = new Transformer<double>(new TransformerConfig
        {
            NLayers = 2, NHeads = 2, DModel = 8, DHead = 4, DMlp = 16, NCtx = 6, DIn = 1, DVocab = 1, DVocabOut = 1, Normalization = "LN",
        }, Initialization.PyTorch, new Rng(6));
        var result = ResidualJacobians.Of(model, ModelPrompt.OfValues([0.5f, -1.2f, 0.3f, 2.0f, -0.7f], 1), [2, 4], tokenLayer: 0);
        for (int l = 0; l < 2; l++) CheckAgainstDifferences(model, result, l, 4, result.AtLast[l]);
        CheckAgainstDifferences(model, result, 0, 2, result.AtTokenLayer[0]);
        Assert.Throws<ArgumentException>(() => ResidualJacobians.Of(model, new[] { 1, 2 }, [1], 0), "token prompts for a continuous model");
    }

    static void CheckAgainstDifferences(Transformer<double> model, PromptJacobians result, int layer, int position, double[,] jacobian)
    {
        int d = model.Config.DModel, t = result.Stream[0].Length;
        // The block's input: the stream after `layer` blocks, [1, t, d].
        var input = Tensor.FromArray(result.Stream[layer].SelectMany(x => x).ToArray(), [1, t, d]);
        const double H = 1e-5;
        double worst = 0, scale = 0;
        for (int j = 0; j < d; j++)
        {
            var plus = input.Clone();
            var minus = input.Clone();
            plus.AsSpan()[position * d + j] += H;
            minus.AsSpan()[position * d + j] -= H;
            var fPlus = ResidualAt(model.Blocks[layer], plus, position);
            var fMinus = ResidualAt(model.Blocks[layer], minus, position);
            for (int i = 0; i < d; i++)
            {
                double numeric = (fPlus[i] - fMinus[i]) / (2 * H);
                worst = Math.Max(worst, Math.Abs(numeric - jacobian[i, j]));
                scale = Math.Max(scale, Math.Abs(numeric));
            }
        }
        Assert.That(worst, Is.LessThan(1e-7 * Math.Max(1, scale)), $"block {layer}, position {position}: worst |numeric − analytic| {worst:E2} at scale {scale:E2}");
    }

    [Test]
    public void StreamIsTheModelsResidualAndEndsBeforeTheFinalLayerNorm()
    {
        var model = Model();
        int[] tokens = [2, 7, 1];
        var result = ResidualJacobians.Of(model, tokens, [2], tokenLayer: 0);
        Assert.That(result.Stream, Has.Length.EqualTo(3), "x⁰, x¹, x²");
        // x⁰ = W_E[token] + W_pos[position].
        var we = model.WE.Data.ToArray();
        var wpos = model.WPos.Data.ToArray();
        for (int i = 0; i < 8; i++) Assert.That(result.Stream[0][1][i], Is.EqualTo(we[7 * 8 + i] + wpos[8 + i]).Within(1e-12));
    }

    [Test]
    public void PositionsOutsideThePromptAreRefused()
    {
        Assert.Throws<ArgumentException>(() => ResidualJacobians.Of(Model(), new[] { 1, 2, 3 }, [3], 0));
        Assert.Throws<ArgumentException>(() => ResidualJacobians.Of(Model(), new[] { 1, 2, 3, 4, 5, 6, 7 }, [0], 0));
        Assert.Throws<ArgumentException>(() => ResidualJacobians.Of(Model(), new[] { 1, 2, 3 }, [2, 1], 0));
        Assert.Throws<ArgumentException>(() => ResidualJacobians.Of(Model(), new[] { 1, 2, 3 }, [2], 2));
    }

    [Test]
    public void AStraightTrajectoryScoresOneAndGeometricGrowthIsExact()
    {
        // x^l = 2^l·(1, 1): a straight line, norms and steps growing by exactly 2 per layer.
        var points = Enumerable.Range(0, 5).Select(l => new[] { Math.Pow(2, l), Math.Pow(2, l) }).ToList();
        var shape = TrajectoryShape.Of(points);
        Assert.That(shape.LineShapeScore, Is.EqualTo(1).Within(1e-12));
        Assert.That(shape.NormSlope, Is.EqualTo(Math.Log(2)).Within(1e-12));
        Assert.That(shape.NormR2, Is.EqualTo(1).Within(1e-12));
        Assert.That(shape.StepSlope, Is.EqualTo(Math.Log(2)).Within(1e-12));
        Assert.That(shape.StepRatioCv, Is.EqualTo(0).Within(1e-12));
    }

    [Test]
    public void ARightAngleTurnScoresSquareRootOfTwo()
    {
        // Steps (3, 0) then (0, 0.5): unit steps (1, 0), (0, 1) end √2 from the start; LSS = 2/√2.
        var shape = TrajectoryShape.Of([[0, 0], [3, 0], [3, 0.5]]);
        Assert.That(shape.LineShapeScore, Is.EqualTo(Math.Sqrt(2)).Within(1e-12));
        Assert.That(shape.StepSlope, Is.EqualTo(Math.Log(0.5 / 3)).Within(1e-12));
    }
}
