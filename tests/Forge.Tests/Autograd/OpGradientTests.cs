using Forge.Autograd;

namespace Forge.Tests.Autograd;

/// <summary>Every differentiable op against float64 central finite differences (max error ≤ 1e-6).</summary>
public class OpGradientTests
{
    const double Tolerance = 1e-6;
    static readonly Rng Random = new(2026);

    static Tensor<double> Normal(params int[] shape) => Tensor.Normal(Random, 0.0, 1.0, shape);
    static Tensor<double> Positive(params int[] shape) => Tensor.Uniform(Random, 0.5, 2.0, shape);

    static void Check(Func<Var<double>[], Var<double>> f, params Tensor<double>[] inputs)
    {
        var result = GradCheck.Run(f, inputs);
        Assert.That(result.MaxError, Is.LessThanOrEqualTo(Tolerance), result.ToString());
    }

    [TestCase(new[] { 3, 5 }, new[] { 3, 5 })]
    [TestCase(new[] { 3, 1, 5 }, new[] { 4, 1 })]
    [TestCase(new[] { 2, 3 }, new int[0])]
    [TestCase(new[] { 7 }, new[] { 2, 1, 7 })]
    public void BinaryOpsWithBroadcasting(int[] aShape, int[] bShape)
    {
        var a = Normal(aShape);
        var b = Positive(bShape);
        Check(v => v[0] + v[1], a, b);
        Check(v => v[0] - v[1], a, b);
        Check(v => v[0] * v[1], a, b);
        Check(v => v[0] / v[1], a, b);
    }

    [Test]
    public void BinaryOpsOnStridedViews() =>
        Check(v => v[0].Transpose(0, 1) * v[1] + v[1].Narrow(0, 0, 3), Normal(5, 3), Normal(3, 5));

    [Test]
    public void UnaryOps()
    {
        Check(v => -v[0], Normal(7));
        Check(v => v[0].Exp(), Normal(7));
        Check(v => v[0].Log(), Positive(7));
        Check(v => v[0].Sqrt(), Positive(7));
        Check(v => v[0].Square(), Normal(7));
        Check(v => v[0].Tanh(), Normal(7));
        Check(v => v[0].Reciprocal(), Positive(7));
        Check(v => v[0].Gelu(), Normal(33));
        // relu and |x| are not differentiable at 0; random normal inputs stay away from it
        Check(v => v[0].Relu(), Normal(33));
        Check(v => v[0].Abs(), Normal(33));
        Check(v => v[0] * 2.5 + 1.0, Normal(7));
        Check(v => v[0] - 3.0, Normal(7));
    }

    [TestCase(4, 3, 5)]
    [TestCase(1, 7, 1)]
    [TestCase(6, 33, 2)]
    public void MatMulWithWeight(int m, int k, int n)
    {
        Check(v => v[0].MatMul(v[1]), Normal(m, k), Normal(k, n));
        Check(v => v[0].MatMul(v[1]), Normal(2, m, k), Normal(k, n));          // leading axes fold into rows
        Check(v => v[0].MatMul(v[1].Transpose(0, 1)), Normal(m, k), Normal(n, k)); // transposed weight view
    }

    [Test]
    public void LinearWithFusedBias()
    {
        Check(v => v[0].Linear(v[1], v[2]), Normal(4, 3), Normal(3, 5), Normal(5));
        Check(v => v[0].Linear(v[1], v[2]), Normal(2, 7, 3), Normal(3, 1), Normal(1));
        Check(v => v[0].Linear(v[1].Transpose(0, 1), v[2]), Normal(6, 4), Normal(5, 4), Normal(5));
    }

    [Test]
    public void BatchedMatMulWithTransposedViews()
    {
        Check(v => v[0].MatMul(v[1]), Normal(2, 3, 4, 5), Normal(2, 3, 5, 2));
        Check(v => v[0].MatMul(v[1].Transpose(-1, -2)), Normal(3, 4, 5), Normal(3, 6, 5));   // q·kᵀ
        Check(v => v[0].Permute(0, 2, 1, 3).MatMul(v[1].Permute(0, 2, 3, 1)), Normal(2, 4, 3, 5), Normal(2, 4, 3, 5));
    }

    [Test]
    public void Reductions()
    {
        Check(v => v[0].Sum(), Normal(3, 4));
        Check(v => v[0].Mean(), Normal(3, 4));
        Check(v => v[0].Sum(1), Normal(3, 4, 5));
        Check(v => v[0].Mean(0, keepDim: true), Normal(3, 4, 5));
        Check(v => v[0].Sum(-1), Normal(2, 7));
        Check(v => v[0].Max(1), Normal(3, 4, 5));
        Check(v => v[0].Transpose(0, 1).Sum(0), Normal(3, 4));
    }

    [Test]
    public void Softmaxes()
    {
        Check(v => v[0].Softmax(), Normal(3, 7));
        Check(v => v[0].CausalSoftmax(), Normal(2, 3, 5, 5));
        Check(v => v[0].Softmax(), Normal(1, 1));
    }

    [TestCase(5, 7)]
    [TestCase(1, 33)]
    [TestCase(3, 1)]
    public void LayerNorm(int rows, int d) =>
        Check(v => v[0].LayerNorm(v[1], v[2]), Normal(rows, d), Normal(d), Normal(d));

    [Test]
    public void Embedding()
    {
        var ids = Tensor.FromArray(new[] { 0, 3, 3, 1, 2, 0 }, [2, 3]); // repeated ids collect both gradients
        Check(v => v[0].Embedding(ids), Normal(4, 5));
    }

    [Test]
    public void CrossEntropyWithAndWithoutMask()
    {
        var targets = Tensor.FromArray(new[] { 1, 0, 4, 2, 2, 3 }, [2, 3]);
        var mask = Tensor.FromArray(new[] { 1.0, 0, 1, 1, 1, 0 }, [2, 3]);
        Check(v => v[0].CrossEntropy(targets), Normal(2, 3, 5));
        Check(v => v[0].CrossEntropy(targets, mask), Normal(2, 3, 5));
    }

    [Test]
    public void MseLoss() => Check(v => Functional.MseLoss(v[0], v[1]), Normal(4, 3), Normal(4, 3));

    [TestCase(2, 5, 3, 4)]
    [TestCase(1, 1, 1, 1)]
    [TestCase(1, 7, 2, 3)]
    public void FusedCausalAttention(int batch, int t, int heads, int dHead) =>
        Check(v => Functional.CausalAttention(v[0], v[1], v[2]).Z, Normal(batch, t, heads, dHead), Normal(batch, t, heads, dHead), Normal(batch, t, heads, dHead));

    [Test]
    public void FusedAttentionMatchesComposedPrimitives()
    {
        var q = Normal(2, 4, 3, 5); var k = Normal(2, 4, 3, 5); var v = Normal(2, 4, 3, 5);
        var fused = Functional.CausalAttention(Var<double>.Constant(q), Var<double>.Constant(k), Var<double>.Constant(v)).Z.Data.ToArray();
        var composed = ComposedAttention(Var<double>.Constant(q), Var<double>.Constant(k), Var<double>.Constant(v)).Data.ToArray();
        Assert.That(fused, Is.EqualTo(composed).Within(1e-12));
    }

    /// <summary>The same attention from primitive ops: the path used when a hook must edit the pattern.</summary>
    static Var<double> ComposedAttention(Var<double> q, Var<double> k, Var<double> v)
    {
        double scale = 1 / Math.Sqrt(q.Size(-1));
        var scores = q.Permute(0, 2, 1, 3).MatMul(k.Permute(0, 2, 3, 1)) * scale; // [b, h, t, t]
        var pattern = scores.CausalSoftmax();
        return pattern.MatMul(v.Permute(0, 2, 1, 3)).Permute(0, 2, 1, 3);          // [b, t, h, d]
    }

    [Test]
    public void ViewsAndExpand()
    {
        Check(v => v[0].Reshape(4, 3).Square(), Normal(3, 4));
        Check(v => v[0].Permute(2, 0, 1).Contiguous() * v[1], Normal(2, 3, 4), Normal(4, 2, 3));
        Check(v => v[0].Narrow(1, 1, 2).Square(), Normal(3, 4));
        Check(v => v[0].Select(0, 1).Exp(), Normal(3, 4));
        Check(v => v[0].Unsqueeze(1).Expand(3, 5, 4).Square(), Normal(3, 4));
        Check(v => v[0].Unsqueeze(0).Squeeze(0).Tanh(), Normal(3, 4));
        Check(v => v[0].Transpose(0, 1).Reshape(12).Square(), Normal(3, 4)); // reshape of a non-viewable layout copies
    }

    [Test]
    public void ValueUsedTwiceAccumulatesBothPaths() =>
        Check(v => v[0] * v[0] + v[0].Exp() * v[1], Normal(5), Normal(5));
}
