using System.Text;
using Forge.Models.Checkpoints;

namespace Forge.Tests.Checkpoints;

/// <summary>
/// Every way a file can be broken gives a <see cref="CheckpointException"/> whose message names the file
/// and describes the problem — read from disk, from a byte array and from a forward-only stream.
/// </summary>
public class SafeTensorsCorruptionTests
{
    const string GoodTensor = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    static readonly byte[] EightBytes = [1, 2, 3, 4, 5, 6, 7, 8];

    static byte[] Json(string json, int dataBytes = 8) => HandBuilt.File(json, new byte[dataBytes]);

    static IEnumerable<TestCaseData> BrokenFiles()
    {
        TestCaseData Case(string name, byte[] bytes, string phrase) => new TestCaseData(bytes, phrase).SetName($"Broken_{name}");

        yield return Case("Empty", [], "too short");
        yield return Case("FiveBytes", [1, 2, 3, 4, 5], "too short");
        yield return Case("HeaderLengthBeyondFile", HandBuilt.File(1000, Encoding.UTF8.GetBytes("{}"), []), "exceeds");
        yield return Case("HeaderLengthAbsurd", HandBuilt.File(1UL << 40, Encoding.UTF8.GetBytes("{}"), []), "absurd");
        yield return Case("HeaderLengthNegativeAsSigned", HandBuilt.File(ulong.MaxValue, Encoding.UTF8.GetBytes("{}"), []), "absurd");
        yield return Case("InvalidUtf8", HandBuilt.File([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []), "not valid UTF-8");
        yield return Case("InvalidJson", Json("{\"w\": {\"dtype\": \"F32\",}"), "not valid JSON");
        yield return Case("EmptyHeader", Json("", 0), "not valid JSON");
        yield return Case("TrailingGarbageAfterJson", Json("{} x", 0), "not valid JSON");
        yield return Case("HeaderIsArray", Json("[1, 2]", 0), "not a JSON object");
        yield return Case("HeaderIsString", Json("\"hello\"", 0), "not a JSON object");
        yield return Case("EntryIsNumber", Json("{\"w\": 3}", 0), "not an object");
        yield return Case("MissingDType", Json("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}"), "no \"dtype\"");
        yield return Case("MissingShape", Json("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}"), "no \"shape\"");
        yield return Case("MissingOffsets", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}"), "no \"data_offsets\"");
        yield return Case("DTypeNotString", Json("{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}"), "not a string");
        yield return Case("UnknownDType", Json("{\"w\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}"), "unknown dtype 'F17'");
        yield return Case("LowercaseDType", Json("{\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), "unknown dtype 'f32'");
        yield return Case("SubByteDType", Json("{\"w\":{\"dtype\":\"F4\",\"shape\":[16],\"data_offsets\":[0,8]}}"), "unsupported dtype 'F4'");
        yield return Case("NegativeDimension", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}"), "negative dimension -2");
        yield return Case("FractionalDimension", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}"), "not an integer");
        yield return Case("ShapeNotList", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}"), "not a list of integers");
        yield return Case("HugeDimension", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,8]}}"), "larger than Forge supports");
        yield return Case("HugeTensor", Json("{\"w\":{\"dtype\":\"F64\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}"), "larger than the");
        yield return Case("OffsetsDoNotMatchShape", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}"), "hold 8 bytes but shape [3] of F32 needs 12");
        yield return Case("ThreeOffsets", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}"), "expected 2");
        yield return Case("ReversedOffsets", Json("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}"), "not a valid range");
        yield return Case("NegativeOffset", Json("{\"w\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[-8,0]}}"), "not a valid range");
        yield return Case("Overlap", Json("{" + GoodTensor + ",\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"), "overlap");
        yield return Case("SameOffsetsTwice", Json("{" + GoodTensor + ",\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), "overlap");
        yield return Case("EmptyTensorInsideAnother", Json("{" + GoodTensor + ",\"v\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}"), "overlap");
        yield return Case("HoleAtStart", Json("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"), "bytes [0, 4) of the data buffer are not covered");
        yield return Case("HoleInMiddle", Json("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}"), "bytes [2, 6) of the data buffer are not covered");
        yield return Case("TrailingBytes", Json("{" + GoodTensor + "}", 12), "4 bytes after the end of the data buffer");
        yield return Case("TruncatedData", Json("{" + GoodTensor + "}", 5), "truncated");
        yield return Case("NoDataAtAll", Json("{" + GoodTensor + "}", 0), "truncated");
        yield return Case("MetadataNotString", Json("{\"__metadata__\":{\"step\":100}," + GoodTensor + "}"), "value of 'step' is a number; the format allows only strings");
        yield return Case("MetadataNested", Json("{\"__metadata__\":{\"config\":{\"n_layers\":2}}," + GoodTensor + "}"), "value of 'config' is an object");
        yield return Case("MetadataNotObject", Json("{\"__metadata__\":[\"a\"]," + GoodTensor + "}"), "not an object of strings");
        yield return Case("DuplicateTensorName", Json("{" + GoodTensor + "," + GoodTensor + "}"), "names 'w' twice");
    }

    [TestCaseSource(nameof(BrokenFiles))]
    public void BrokenFileOnDiskNamesFileAndProblem(byte[] bytes, string phrase)
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("broken-model.safetensors");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path))!;
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Contain("broken-model.safetensors").And.Contain(phrase));
        Assert.That(error.FileName, Is.EqualTo(path));
    }

    [TestCaseSource(nameof(BrokenFiles))]
    public void BrokenFileFromAForwardOnlyStreamNamesSourceAndProblem(byte[] bytes, string phrase)
    {
        // Without a length to compare against, "exceeds the file" and "N bytes after" become
        // "truncated" and "at least 1 bytes after"; every other message is the same.
        using var stream = new ForwardOnlyStream(bytes);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(stream, "pipe:model"))!;
        string expected = phrase switch
        {
            "exceeds" => "truncated inside the header",
            "4 bytes after the end of the data buffer" => "at least 1 bytes after the end",
            _ => phrase,
        };
        Assert.That(error.Message, Does.Contain("pipe:model").And.Contain(expected));
    }

    [Test]
    public void EveryBrokenCaseFailsFromBytesToo()
    {
        foreach (var testCase in BrokenFiles())
        {
            var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read((byte[])testCase.Arguments[0]!, "in-memory.bin"), testCase.TestName!)!;
            Assert.That(error.Message, Does.Contain("in-memory.bin").And.Contain((string)testCase.Arguments[1]!), testCase.TestName!);
        }
    }

    [Test]
    public void MissingFileIsACheckpointException()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("never-written.safetensors");
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(path))!;
        Assert.That(error.Message, Does.Contain("never-written.safetensors").And.Contain("does not exist"));
        error = Assert.Throws<CheckpointException>(() => SafeTensors.Read(Path.Combine(scratch.Path, "no-such-dir", "x.safetensors")))!;
        Assert.That(error.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void ValidFileOfTheSameShapeReads()
    {
        // The control for the cases above: the same construction without a defect reads fine.
        var file = SafeTensors.Read(HandBuilt.File("{" + GoodTensor + "}", EightBytes), "good");
        Assert.That(file.GetEntry("w").Data.ToArray(), Is.EqualTo(EightBytes));
    }
}
