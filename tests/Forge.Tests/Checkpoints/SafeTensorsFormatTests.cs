using System.Buffers.Binary;
using System.Text;
using Forge.Models.Checkpoints;

namespace Forge.Tests.Checkpoints;

/// <summary>
/// The bytes on disk, compared with files built by hand from the spec (the Python `safetensors` package is
/// not installable on this machine, so the reference is the spec's layout spelled out byte by byte).
/// </summary>
public class SafeTensorsFormatTests
{
    [Test]
    public void WrittenBytesMatchAHandBuiltFile()
    {
        var file = new SafeTensorsFile();
        file.Metadata["format"] = "pt";
        file.Add("a", Tensor.FromArray(new float[] { 1, -2, 0.5f }, [3, 1]));
        file.Add("b", Tensor.FromArray(new long[] { 1, -1 }, [2]));
        file.Add("s", Tensor.Scalar(1.0));

        // What the reference (Rust) writer produces: compact JSON, __metadata__ first, spaces up to a multiple of 8.
        const string json = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3,1],"data_offsets":[0,12]},"b":{"dtype":"I64","shape":[2],"data_offsets":[12,28]},"s":{"dtype":"F64","shape":[],"data_offsets":[28,36]}}""";
        byte[] data =
        [
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x3F, // 1f, −2f, 0.5f
            0x01, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // 1L, −1L
            0, 0, 0, 0, 0, 0, 0xF0, 0x3F, // 1.0
        ];
        string padded = HandBuilt.Padded(json);
        Assert.That(padded.Length, Is.EqualTo(200), "the hand-built header: 197 bytes of JSON + 3 spaces");
        byte[] expected = HandBuilt.File(padded, data);
        Assert.That(SafeTensors.ToBytes(file), Is.EqualTo(expected));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(expected), Is.EqualTo(200UL));
    }

    [Test]
    public void WithoutMetadataTheKeyIsOmitted()
    {
        var file = new SafeTensorsFile();
        file.Add("x", Tensor.FromArray(new[] { 7 }, [1]));
        byte[] expected = HandBuilt.File(HandBuilt.Padded("""{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"""), 7, 0, 0, 0);
        Assert.That(SafeTensors.ToBytes(file), Is.EqualTo(expected));
        Assert.That(SafeTensors.ToBytes(new SafeTensorsFile()), Is.EqualTo(HandBuilt.File("{}      ")));
    }

    [Test]
    public void HeaderIsPaddedSoTheDataIsEightByteAligned()
    {
        for (int nameLength = 1; nameLength <= 16; nameLength++)
        {
            var file = new SafeTensorsFile();
            file.Add(new string('n', nameLength), Tensor.FromArray(new[] { 1.0 }, [1]));
            byte[] bytes = SafeTensors.ToBytes(file);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.That(headerLength % 8, Is.Zero, $"name length {nameLength}");
            Assert.That((ulong)bytes.Length, Is.EqualTo(8 + headerLength + 8));
            string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
            Assert.That(header.TrimEnd(' '), Does.EndWith("}"), "padding is trailing spaces only");
        }
    }

    [Test]
    public void ReadsKeysInAnyOrderWithWhitespaceAndNoMetadata()
    {
        // Tensors listed out of offset order, fields permuted, an unknown field, newlines and tabs, no padding.
        const string json = "\n {\n\t\"second\" : { \"data_offsets\" : [ 8 , 16 ] , \"shape\" : [ 2 ] , \"dtype\" : \"I32\" },\n" +
                            "  \"first\": {\"shape\": [1, 2], \"extra\": {\"ignored\": true}, \"dtype\": \"F32\", \"data_offsets\": [0, 8]}\r\n}   ";
        byte[] data = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 3, 0, 0, 0, 0xFC, 0xFF, 0xFF, 0xFF]; // 1f, 2f, 3, −4
        var file = SafeTensors.Read(HandBuilt.File(json, data), "handbuilt.safetensors");
        Assert.That(file.Names, Is.EqualTo(new[] { "second", "first" }), "header order is kept");
        Assert.That(file.Metadata, Is.Empty);
        Assert.That(file.GetFloat("first", [1, 2]).ToArray(), Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(file.GetInt32("second", [2]).ToArray(), Is.EqualTo(new[] { 3, -4 }));
    }

    [Test]
    public void ReadsMetadataAfterTheTensorsAndNullMetadata()
    {
        const string json = """{"w":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"__metadata__":{"step":"5","config":"{\"n_layers\": 1}"}}""";
        var file = SafeTensors.Read(HandBuilt.File(json, 0, 0, 0, 0, 0, 0, 0xF0, 0xBF));
        Assert.That(file.GetDouble("w", []).ToArray(), Is.EqualTo(new[] { -1.0 }));
        Assert.That(file.Metadata, Is.EqualTo(new Dictionary<string, string> { ["step"] = "5", ["config"] = """{"n_layers": 1}""" }));

        var withNull = SafeTensors.Read(HandBuilt.File("""{"__metadata__":null}"""));
        Assert.That(withNull.Metadata, Is.Empty);
        Assert.That(withNull.Count, Is.Zero);
    }

    [Test]
    public void ReadsEmptyTensorsAnywhereInTheBuffer()
    {
        // Zero-byte tensors at the start, in the middle and at the end of the buffer are all legal.
        const string json = """{"e0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"e1":{"dtype":"I64","shape":[2,0],"data_offsets":[2,2]},"y":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"e2":{"dtype":"F64","shape":[0,0],"data_offsets":[3,3]}}""";
        var file = SafeTensors.Read(HandBuilt.File(json, 10, 20, 30));
        Assert.That(file.GetInt32("x").ToArray(), Is.EqualTo(new[] { 10, 20 }));
        Assert.That(file.GetInt32("y").ToArray(), Is.EqualTo(new[] { 30 }));
        Assert.That(file.GetFloat("e0").Shape, Is.EqualTo(new[] { 0 }));
        Assert.That(file.GetInt64("e1").Shape, Is.EqualTo(new[] { 2, 0 }));
        Assert.That(file.GetDouble("e2").Length, Is.Zero);
    }

    [Test]
    public void ReadsFromANonSeekableStreamAndFromTheCurrentPosition()
    {
        var original = new SafeTensorsFile();
        original.Add("w", Tensor.FromArray(new[] { 1f, 2f, 3f }, [3]));
        byte[] bytes = SafeTensors.ToBytes(original);
        using (var forwardOnly = new ForwardOnlyStream(bytes))
            Assert.That(SafeTensors.Read(forwardOnly).GetFloat("w").ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f }));

        using var prefixed = new MemoryStream([.. new byte[5], .. bytes]);
        prefixed.Position = 5;
        Assert.That(SafeTensors.Read(prefixed).GetFloat("w").ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void NonAsciiNamesAreWrittenAsValidUtf8Json()
    {
        var file = new SafeTensorsFile();
        file.Add("poids.é→λ \"q\"", Tensor.Scalar(2f));
        byte[] bytes = SafeTensors.ToBytes(file);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var document = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        Assert.That(document.RootElement.EnumerateObject().Single().Name, Is.EqualTo("poids.é→λ \"q\""));
        Assert.That(SafeTensors.Read(bytes).GetFloat("poids.é→λ \"q\"").ToArray(), Is.EqualTo(new[] { 2f }));
    }
}

/// <summary>A stream that can only be read forwards (like a pipe), handing out a few bytes at a time.</summary>
sealed class ForwardOnlyStream(byte[] bytes) : Stream
{
    int _position;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = Math.Min(Math.Min(count, 3), bytes.Length - _position); // short reads, as pipes give
        Array.Copy(bytes, _position, buffer, offset, read);
        _position += read;
        return read;
    }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
