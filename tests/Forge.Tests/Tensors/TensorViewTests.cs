namespace Forge.Tests.Tensors;

public class TensorViewTests
{
    static Tensor<float> Range(params int[] shape) => Tensor.Arange<float>(Shape.Count(shape)).Reshape(shape);

    [Test]
    public void ReshapeOfContiguousIsAViewSharingStorage()
    {
        var x = Range(2, 3);
        var y = x.Reshape(3, -1);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 2 }));
        Assert.That(y.Storage, Is.SameAs(x.Storage));
        y[2, 1] = 100;
        Assert.That(x[1, 2], Is.EqualTo(100f));
    }

    [Test]
    public void PermuteTransposeNarrowSelectReadTheRightElements()
    {
        var x = Range(2, 3, 4); // x[i,j,k] = 12i + 4j + k
        var p = x.Permute(2, 0, 1);
        Assert.That(p.Shape, Is.EqualTo(new[] { 4, 2, 3 }));
        Assert.That(p[3, 1, 2], Is.EqualTo(12f + 8 + 3));
        Assert.That(p.IsContiguous, Is.False);
        Assert.That(x.Transpose(0, 2)[1, 2, 1], Is.EqualTo(12f + 8 + 1));
        var n = x.Narrow(1, 1, 2);
        Assert.That(n.Shape, Is.EqualTo(new[] { 2, 2, 4 }));
        Assert.That(n[1, 0, 3], Is.EqualTo(12f + 4 + 3));
        Assert.That(x.Select(2, 3).ToArray(), Is.EqualTo(new float[] { 3, 7, 11, 15, 19, 23 }));
    }

    [Test]
    public void ContiguousCopiesStridedViewsInRowMajorOrder()
    {
        var t = Range(2, 3).Transpose(0, 1).Contiguous();
        Assert.That(t.IsContiguous, Is.True);
        Assert.That(t.ToArray(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
        var reshaped = Range(2, 3).Transpose(0, 1).Reshape(6); // not viewable: copies
        Assert.That(reshaped.ToArray(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void ExpandBroadcastsWithZeroStrides()
    {
        var row = Range(1, 3);
        var e = row.Expand(4, 3);
        Assert.That(e.Strides, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(e[3, 2], Is.EqualTo(2f));
        Assert.That(Range(3).Expand(2, 3).ToArray(), Is.EqualTo(new float[] { 0, 1, 2, 0, 1, 2 }));
    }

    [Test]
    public void UnsqueezeSqueezeRoundTrip()
    {
        var x = Range(2, 3);
        Assert.That(x.Unsqueeze(1).Shape, Is.EqualTo(new[] { 2, 1, 3 }));
        Assert.That(x.Unsqueeze(-1).Shape, Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(x.Unsqueeze(0).Squeeze(0).ToArray(), Is.EqualTo(x.ToArray()));
    }

    [Test]
    public void ShapeErrorsNameTheOperationAndShapes()
    {
        var x = Range(2, 3);
        var e = Assert.Throws<ShapeException>(() => x.Reshape(4, 2))!;
        Assert.That(e.Message, Does.Contain("Reshape").And.Contain("[2, 3]").And.Contain("[4, 2]"));
        Assert.That(Assert.Throws<ShapeException>(() => x.Expand(2, 4))!.Message, Does.Contain("Expand").And.Contain("[2, 4]"));
        Assert.That(Assert.Throws<ShapeException>(() => x.Narrow(1, 2, 2))!.Message, Does.Contain("Narrow"));
        Assert.That(Assert.Throws<ShapeException>(() => x.Permute(0, 0))!.Message, Does.Contain("Permute"));
        Assert.That(Assert.Throws<ShapeException>(() => Shape.Broadcast("Add", [2, 3], [4, 3]))!.Message,
            Does.Contain("Add").And.Contain("[2, 3]").And.Contain("[4, 3]"));
        Assert.That(Assert.Throws<ShapeException>(() => Tensor.FromArray(new float[5], [2, 3]))!.Message, Does.Contain("FromArray"));
    }

    [Test]
    public void BroadcastShapesFollowNumPyRules()
    {
        Assert.That(Shape.Broadcast("t", [3, 1, 5], [4, 1]), Is.EqualTo(new[] { 3, 4, 5 }));
        Assert.That(Shape.Broadcast("t", [], [2, 2]), Is.EqualTo(new[] { 2, 2 }));
        Assert.That(Shape.BroadcastStrides([4, 1], [1, 1], [3, 4, 5]), Is.EqualTo(new[] { 0, 1, 0 }));
    }

    [Test]
    public void CastAndCopyFrom()
    {
        var x = Range(2, 2);
        Assert.That(x.Cast<double>().ToArray(), Is.EqualTo(new double[] { 0, 1, 2, 3 }));
        var y = Tensor.Zeros<float>(2, 2);
        y.Transpose(0, 1).CopyFrom(x);
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { 0, 2, 1, 3 }));
    }
}
