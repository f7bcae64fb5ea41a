using Forge.Kernels;

namespace Forge.Tests.Kernels;

/// <summary>Bad arguments throw <see cref="ArgumentException"/> naming Gemm, the argument and the sizes.</summary>
public class GemmArgumentTests
{
    [Test]
    public void ShortAThrows()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Run(false, false, 3, 4, 5, 1f, new float[14], 5, new float[20], 4, 0f, new float[12], 4));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("a has length 14").And.Contain("15").And.Contain("(3, 5)"));
        Assert.That(e.ParamName, Is.EqualTo("a"));
    }

    [Test]
    public void ShortTransposedBThrows()
    {
        // op(B) is (5, 4) stored transposed as (4, 5) with ldb 6: needs 3·6 + 5 = 23.
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Run(false, true, 3, 4, 5, 1f, new float[15], 5, new float[22], 6, 0f, new float[12], 4));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("b has length 22").And.Contain("23"));
    }

    [Test]
    public void ShortCThrows()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Run(false, false, 3, 4, 5, 1.0, new double[15], 5, new double[20], 4, 0.0, new double[11], 4));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("c has length 11").And.Contain("(3, 4)"));
    }

    [Test]
    public void LeadingDimensionShorterThanARowThrows()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Run(false, false, 3, 4, 5, 1f, new float[100], 4, new float[100], 4, 0f, new float[100], 4));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("lda=4"));
    }

    [Test]
    public void NegativeSizeThrows()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.Run(false, false, -1, 4, 5, 1f, new float[100], 5, new float[100], 4, 0f, new float[100], 4));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("m=-1"));
    }

    [Test]
    public void BatchedShortSpanNamesBatchAndStride()
    {
        // 3 matrices of (2, 2) at stride 5 need 2·5 + 4 = 14 elements of C.
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.RunBatched(false, false, 2, 2, 2, 1f, new float[4], 2, 0, new float[4], 2, 0, 0f, new float[13], 2, 5, 3));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("c has length 13").And.Contain("14").And.Contain("batch=3"));
    }

    [Test]
    public void NegativeStrideThrows()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.RunBatched(false, false, 2, 2, 2, 1f, new float[8], 2, -4, new float[4], 2, 0, 0f, new float[8], 2, 4, 2));
        Assert.That(e!.Message, Does.Contain("Gemm").And.Contain("strideA=-4"));
    }

    [Test]
    public void ReferenceChecksToo()
    {
        Assert.Throws<ArgumentException>(() =>
            GemmReference.Run(false, false, 3, 4, 5, 1f, new float[14], 5, new float[20], 4, 0f, new float[12], 4));
    }
}
