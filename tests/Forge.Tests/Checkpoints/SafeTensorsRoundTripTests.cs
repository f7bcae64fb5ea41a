using Forge.Models.Checkpoints;

namespace Forge.Tests.Checkpoints;

public class SafeTensorsRoundTripTests
{
    static SafeTensorsFile RoundTrip(SafeTensorsFile file) => SafeTensors.Read(SafeTensors.ToBytes(file), "roundtrip.safetensors");

    static readonly float[] AwkwardFloats =
    [
        0f, -0f, 1f, -1.5f, float.Epsilon, -float.Epsilon, 1e-40f /* subnormal */, float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN, MathF.PI, 1f / 3f,
    ];

    static readonly double[] AwkwardDoubles =
    [
        0d, -0d, 1d, -1.5d, double.Epsilon, 1e-310 /* subnormal */, double.MaxValue, double.MinValue,
        double.PositiveInfinity, double.NegativeInfinity, double.NaN, Math.PI, 1d / 3d, 0.1,
    ];

    [Test]
    public void FloatsRoundTripBitExactly()
    {
        var file = new SafeTensorsFile();
        file.Add("w", Tensor.FromArray(AwkwardFloats, [2, 7]));
        var back = RoundTrip(file).GetFloat("w", [2, 7]);
        Assert.That(back.ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(AwkwardFloats.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(RoundTrip(file).GetEntry("w").DType, Is.EqualTo(SafeTensorsDType.F32));
    }

    [Test]
    public void DoublesRoundTripBitExactly()
    {
        var file = new SafeTensorsFile();
        file.Add("w", Tensor.FromArray(AwkwardDoubles, [7, 2]));
        var back = RoundTrip(file).GetDouble("w", [7, 2]);
        Assert.That(back.ToArray().Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(AwkwardDoubles.Select(BitConverter.DoubleToInt64Bits)));
        Assert.That(RoundTrip(file).GetEntry("w").DType, Is.EqualTo(SafeTensorsDType.F64));
    }

    [Test]
    public void IntegersRoundTrip()
    {
        int[] ints = [0, 1, -1, int.MinValue, int.MaxValue, 12345];
        long[] longs = [0, -1, long.MinValue, long.MaxValue, 1L << 40, 7];
        var file = new SafeTensorsFile();
        file.Add("ints", Tensor.FromArray(ints, [3, 2]));
        file.Add("longs", Tensor.FromArray(longs, [6]));
        var back = RoundTrip(file);
        Assert.That(back.GetInt32("ints", [3, 2]).ToArray(), Is.EqualTo(ints));
        Assert.That(back.GetInt64("longs", [6]).ToArray(), Is.EqualTo(longs));
        Assert.That(back.GetEntry("ints").DType, Is.EqualTo(SafeTensorsDType.I32));
        Assert.That(back.GetEntry("longs").DType, Is.EqualTo(SafeTensorsDType.I64));
    }

    [TestCase(new int[0])]
    [TestCase(new[] { 0 })]
    [TestCase(new[] { 3, 0, 2 })]
    [TestCase(new[] { 1, 1, 1 })]
    public void EmptyTensorsAndScalarsRoundTripInEveryDType(int[] shape)
    {
        int count = Shape.Count(shape);
        var file = new SafeTensorsFile();
        file.Add("f", Tensor.FromArray(Enumerable.Range(1, count).Select(i => i * 0.5f).ToArray(), shape));
        file.Add("d", Tensor.FromArray(Enumerable.Range(1, count).Select(i => i * 0.25).ToArray(), shape));
        file.Add("i", Tensor.FromArray(Enumerable.Range(1, count).Select(i => -i).ToArray(), shape));
        file.Add("l", Tensor.FromArray(Enumerable.Range(1, count).Select(i => (long)i << 33).ToArray(), shape));
        var back = RoundTrip(file);
        Assert.That(back.GetFloat("f", shape).ToArray(), Is.EqualTo(file.GetFloat("f").ToArray()));
        Assert.That(back.GetDouble("d", shape).ToArray(), Is.EqualTo(file.GetDouble("d").ToArray()));
        Assert.That(back.GetInt32("i", shape).ToArray(), Is.EqualTo(file.GetInt32("i").ToArray()));
        Assert.That(back.GetInt64("l", shape).ToArray(), Is.EqualTo(file.GetInt64("l").ToArray()));
        Assert.That(back.GetFloat("f").Shape, Is.EqualTo(shape));
    }

    [Test]
    public void EveryDTypeRoundTripsAsRawBytes()
    {
        var file = new SafeTensorsFile();
        var expected = new Dictionary<string, byte[]>();
        foreach (var dtype in Enum.GetValues<SafeTensorsDType>())
        {
            // 2×3 elements of this dtype with distinct byte values.
            var data = Enumerable.Range(0, 6 * dtype.SizeInBytes()).Select(i => (byte)(i * 7 + (int)dtype)).ToArray();
            file.Add($"t_{dtype}", dtype, [2, 3], (byte[])data.Clone());
            file.Add($"empty_{dtype}", dtype, [0, 4], []);
            expected[$"t_{dtype}"] = data;
        }
        var back = RoundTrip(file);
        Assert.That(back.Names, Is.EqualTo(file.Names), "entries keep their order");
        foreach (var entry in back.Entries)
        {
            var original = file.GetEntry(entry.Name);
            Assert.That(entry.DType, Is.EqualTo(original.DType), entry.Name);
            Assert.That(entry.Shape, Is.EqualTo(original.Shape), entry.Name);
            Assert.That(entry.Data.ToArray(), Is.EqualTo(original.Data.ToArray()), entry.Name);
        }
        Assert.That(back.GetEntry("t_U8").Data.ToArray(), Is.EqualTo(expected["t_U8"]));
    }

    [Test]
    public void MetadataRoundTrips()
    {
        var file = new SafeTensorsFile();
        file.Metadata["config"] = """{"n_layers": 2, "d_mlp": null, "act_fn": "gelu_new"}""";
        file.Metadata["step"] = "1200";
        file.Metadata["seed"] = "";
        file.Metadata["unicode ✓"] = "naïve \"quoted\" \\ back\nslash\t<>&'";
        file.Add("x", Tensor.Scalar(1f));
        var back = RoundTrip(file);
        Assert.That(back.Metadata, Is.EqualTo(file.Metadata));
    }

    [Test]
    public void FileWithoutTensorsRoundTrips()
    {
        var file = new SafeTensorsFile();
        file.Metadata["only"] = "metadata";
        var back = RoundTrip(file);
        Assert.That(back.Count, Is.Zero);
        Assert.That(back.Metadata["only"], Is.EqualTo("metadata"));
        Assert.That(RoundTrip(new SafeTensorsFile()).Count, Is.Zero);
    }

    [Test]
    public void ViewsAreWrittenInTheirOwnRowMajorOrder()
    {
        var matrix = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var file = new SafeTensorsFile();
        file.Add("transposed", matrix.Transpose(0, 1));
        var back = RoundTrip(file).GetFloat("transposed", [3, 2]);
        Assert.That(back.ToArray(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
    }

    [Test]
    public void AddCopiesTheValuesAtThatMoment()
    {
        var tensor = Tensor.FromArray(new float[] { 1, 2 }, [2]);
        var file = new SafeTensorsFile();
        file.Add("w", tensor);
        tensor[0] = 99;
        Assert.That(file.GetFloat("w").ToArray(), Is.EqualTo(new float[] { 1, 2 }));
    }

    [Test]
    public void WriteAndReadThroughTheFileSystem()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("step-00000100.safetensors");
        var file = new SafeTensorsFile();
        file.Metadata["step"] = "100";
        file.Add("embed.W_E", Tensor.FromArray(AwkwardFloats, [14]));
        SafeTensors.Write(path, file);
        var back = SafeTensors.Read(path);
        Assert.That(back.Source, Is.EqualTo(path));
        Assert.That(back.GetFloat("embed.W_E").ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(AwkwardFloats.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(back.Metadata["step"], Is.EqualTo("100"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(SafeTensors.ToBytes(file)));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "step-00000100.safetensors" }), "no temporary file remains");
    }
}
