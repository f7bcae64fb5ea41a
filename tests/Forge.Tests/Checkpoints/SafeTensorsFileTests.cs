using Forge.Models.Checkpoints;

namespace Forge.Tests.Checkpoints;

/// <summary>Typed access, dtype conversions, shape checks and the errors of <see cref="SafeTensorsFile"/>.</summary>
public class SafeTensorsFileTests
{
    const string Source = "runs/sorting/checkpoints/step-00000042.safetensors";

    static byte[] LittleEndianUInt16s(params ushort[] values) => values.SelectMany(v => new[] { (byte)v, (byte)(v >> 8) }).ToArray();

    [Test]
    public void HalfPrecisionBitPatternsDecodeExactly()
    {
        var file = new SafeTensorsFile(Source);
        // F16: 1, −2, 65504 (max), 2^−24 (smallest subnormal), +∞, −0.
        file.Add("half", SafeTensorsDType.F16, [6], LittleEndianUInt16s(0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x8000));
        // BF16: 1, 3.140625, −∞, 2^−133 (subnormal), 3.3895314e38 (max).
        file.Add("brain", SafeTensorsDType.BF16, [5], LittleEndianUInt16s(0x3F80, 0x4049, 0xFF80, 0x0001, 0x7F7F));
        Assert.That(file.GetFloat("half").ToArray(), Is.EqualTo(new[] { 1f, -2f, 65504f, MathF.Pow(2, -24), float.PositiveInfinity, -0f }));
        Assert.That(BitConverter.SingleToInt32Bits(file.GetFloat("half").ToArray()[5]), Is.EqualTo(unchecked((int)0x80000000)), "−0 keeps its sign");
        Assert.That(file.GetFloat("brain").ToArray(), Is.EqualTo(new[] { 1f, 3.140625f, float.NegativeInfinity, (float)Math.Pow(2, -133), 3.3895314e38f }));
        Assert.That(file.GetDouble("half").ToArray(), Is.EqualTo(file.GetFloat("half").ToArray().Select(v => (double)v)));
        Assert.That(file.GetDouble("brain").ToArray(), Is.EqualTo(file.GetFloat("brain").ToArray().Select(v => (double)v)));
        Assert.That(float.IsNaN(SafeTensors.Read(LittleEndianHalfFile(0x7E00)).GetFloat("x").ToArray()[0]));
    }

    static byte[] LittleEndianHalfFile(ushort bits)
    {
        var file = new SafeTensorsFile();
        file.Add("x", SafeTensorsDType.F16, [], LittleEndianUInt16s(bits));
        return SafeTensors.ToBytes(file);
    }

    [Test]
    public void StoringAsHalfPrecisionRoundsToNearestEven()
    {
        float one = 1f, halfwayToEvenDown = 1f + MathF.Pow(2, -8), halfwayToEvenUp = 1f + 3 * MathF.Pow(2, -8);
        var values = Tensor.FromArray(new[] { one, halfwayToEvenDown, halfwayToEvenUp, -0.15625f, 1e6f }, [5]);
        var file = new SafeTensorsFile();
        file.Add("bf16", values, SafeTensorsDType.BF16);
        file.Add("f16", values, SafeTensorsDType.F16);
        file.Add("f64", values, SafeTensorsDType.F64);
        var back = SafeTensors.Read(SafeTensors.ToBytes(file));
        Assert.That(back.GetFloat("bf16").ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f + MathF.Pow(2, -6), -0.15625f, 999424f }));
        Assert.That(back.GetFloat("f16").ToArray(), Is.EqualTo(new[] { 1f, 1.00390625f, 1.01171875f, -0.15625f, float.PositiveInfinity }));
        Assert.That(back.GetFloat("f64").ToArray(), Is.EqualTo(values.ToArray()));
        Assert.That(back.GetEntry("f16").DType, Is.EqualTo(SafeTensorsDType.F16));
        Assert.Throws<ArgumentException>(() => file.Add("bad", values, SafeTensorsDType.I32));
    }

    [Test]
    public void FloatFromDoubleRoundsAndDoubleFromFloatIsExact()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("d", Tensor.FromArray(new[] { 0.1, 1e300, -1e-50 }, [3]));
        file.Add("f", Tensor.FromArray(new[] { 0.1f, float.MaxValue }, [2]));
        Assert.That(file.GetFloat("d").ToArray(), Is.EqualTo(new[] { 0.1f, float.PositiveInfinity, -0f }));
        Assert.That(file.GetDouble("f").ToArray(), Is.EqualTo(new[] { (double)0.1f, (double)float.MaxValue }));
    }

    [Test]
    public void IntegersConvertBetweenWidths()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("tokens", Tensor.FromArray(new[] { 0L, 5L, int.MaxValue, int.MinValue }, [2, 2]));
        file.Add("bytes", SafeTensorsDType.U8, [3], [0, 128, 255]);
        file.Add("signed", SafeTensorsDType.I8, [2], [0x80, 0x7F]);
        file.Add("ints", Tensor.FromArray(new[] { -3, 4 }, [2]));
        Assert.That(file.GetInt32("tokens", [2, 2]).ToArray(), Is.EqualTo(new[] { 0, 5, int.MaxValue, int.MinValue }));
        Assert.That(file.GetInt32("bytes").ToArray(), Is.EqualTo(new[] { 0, 128, 255 }));
        Assert.That(file.GetInt64("signed").ToArray(), Is.EqualTo(new[] { -128L, 127L }));
        Assert.That(file.GetInt64("ints").ToArray(), Is.EqualTo(new[] { -3L, 4L }));
    }

    [Test]
    public void IntegersOutOfRangeAreReportedByElement()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("tokens", Tensor.FromArray(new[] { 1L, 2L, 3_000_000_000L }, [3]));
        file.Add("huge", SafeTensorsDType.U64, [1], BitConverter.GetBytes(ulong.MaxValue));
        var error = Assert.Throws<CheckpointException>(() => file.GetInt32("tokens"))!;
        Assert.That(error.Message, Does.Contain(Source).And.Contain("'tokens'").And.Contain("element 2").And.Contain("3000000000").And.Contain("int32"));
        error = Assert.Throws<CheckpointException>(() => file.GetInt64("huge"))!;
        Assert.That(error.Message, Does.Contain("18446744073709551615").And.Contain("int64"));
    }

    [Test]
    public void WrongDTypeNamesTheTensorAndWhatIsAccepted()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("ids", Tensor.FromArray(new[] { 1, 2 }, [2]));
        file.Add("w", Tensor.FromArray(new[] { 1f }, [1]));
        file.Add("mask", SafeTensorsDType.BOOL, [1], [1]);
        var error = Assert.Throws<CheckpointException>(() => file.GetFloat("ids"))!;
        Assert.That(error.Message, Does.Contain(Source).And.Contain("'ids'").And.Contain("I32").And.Contain("GetFloat"));
        Assert.Throws<CheckpointException>(() => file.GetDouble("ids"));
        Assert.Throws<CheckpointException>(() => file.GetInt32("w"));
        Assert.Throws<CheckpointException>(() => file.GetInt64("mask"));
    }

    [Test]
    public void WrongShapeNamesTensorFileExpectedAndActual()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("blocks.0.attn.W_Q", Tensor.Zeros<float>(4, 8, 2));
        file.CheckShape("blocks.0.attn.W_Q", 4, 8, 2);
        var error = Assert.Throws<CheckpointException>(() => file.CheckShape("blocks.0.attn.W_Q", 4, 8, 16))!;
        Assert.That(error.FileName, Is.EqualTo(Source));
        Assert.That(error.Message, Does.Contain(Source).And.Contain("'blocks.0.attn.W_Q'").And.Contain("[4, 8, 2]").And.Contain("expected [4, 8, 16]"));
        error = Assert.Throws<CheckpointException>(() => file.GetFloat("blocks.0.attn.W_Q", [32, 2]))!;
        Assert.That(error.Message, Does.Contain("[4, 8, 2]").And.Contain("expected [32, 2]"));
        Assert.Throws<CheckpointException>(() => file.CheckShape("blocks.0.attn.W_Q"), "a scalar is a different shape");
    }

    [Test]
    public void MissingTensorListsTheAvailableNames()
    {
        var file = new SafeTensorsFile(Source);
        file.Add("embed.W_E", Tensor.Zeros<float>(3, 2));
        file.Add("unembed.W_U", Tensor.Zeros<float>(2, 3));
        Assert.That(file.Contains("embed.W_E") && !file.Contains("pos_embed.W_pos"));
        Assert.That(file.Find("pos_embed.W_pos"), Is.Null);
        var error = Assert.Throws<CheckpointException>(() => file.GetFloat("pos_embed.W_pos"))!;
        Assert.That(error.Message, Does.Contain(Source).And.Contain("no tensor 'pos_embed.W_pos'").And.Contain("embed.W_E, unembed.W_U"));
    }

    [Test]
    public void MissingTensorListIsTruncatedWhenLong()
    {
        var file = new SafeTensorsFile(Source);
        for (int i = 0; i < 50; i++) file.Add($"t{i}", Tensor.Scalar(1f));
        var error = Assert.Throws<CheckpointException>(() => file.CheckShape("nope", 1))!;
        Assert.That(error.Message, Does.Contain("50 tensors").And.Contain("t19").And.Not.Contain("t20").And.Contain("30 more"));
        Assert.That(Assert.Throws<CheckpointException>(() => new SafeTensorsFile(Source).GetFloat("x"))!.Message, Does.Contain("no tensors"));
    }

    [Test]
    public void NamesAreUniqueAndMetadataKeyIsReserved()
    {
        var file = new SafeTensorsFile();
        file.Add("w", Tensor.Scalar(1f));
        Assert.Throws<ArgumentException>(() => file.Add("w", Tensor.Scalar(2f)));
        Assert.Throws<ArgumentException>(() => file.Add(SafeTensorsFile.MetadataKey, Tensor.Scalar(2f)));
        Assert.Throws<ArgumentException>(() => file.Add("raw", SafeTensorsDType.F32, [2], new byte[4]), "byte count must match the shape");
        Assert.Throws<ArgumentException>(() => file.Add("neg", SafeTensorsDType.F32, [-1], []));
        file.Add("v", Tensor.Scalar(3.0));
        Assert.That(file.Remove("w") && !file.Remove("w"));
        Assert.That(file.Names, Is.EqualTo(new[] { "v" }));
        file.Add("w", Tensor.Scalar(4f));
        Assert.That(file.GetFloat("w").ToArray(), Is.EqualTo(new[] { 4f }));
        Assert.That(file.GetDouble("v").ToArray(), Is.EqualTo(new[] { 3.0 }));
    }

    [Test]
    public void DTypeNamesParseExactly()
    {
        foreach (var dtype in Enum.GetValues<SafeTensorsDType>())
        {
            Assert.That(SafeTensorsDTypes.TryParse(dtype.HeaderName(), out var parsed) && parsed == dtype, dtype.ToString());
        }
        Assert.That(SafeTensorsDTypes.TryParse("f32", out _), Is.False);
        Assert.That(SafeTensorsDTypes.TryParse("12", out _), Is.False);
        Assert.That(SafeTensorsDType.BF16.SizeInBytes(), Is.EqualTo(2));
        Assert.That(SafeTensorsDType.C64.SizeInBytes(), Is.EqualTo(8));
    }
}
