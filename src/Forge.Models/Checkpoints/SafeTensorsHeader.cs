using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Forge.Models.Checkpoints;

/// <summary>Where one tensor's bytes lie in the data buffer, as the header declares it.</summary>
internal readonly record struct TensorLocation(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
}

/// <summary>
/// The JSON header of a safetensors file: parsing with every check the spec asks for (and the reference
/// Rust reader performs), and building the header Forge writes.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reference reader's limit; a larger length means the file is not safetensors at all.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The tensors in header order.</summary>
    public List<TensorLocation> Tensors { get; } = [];
    public Dictionary<string, string> Metadata { get; } = [];
    /// <summary>Bytes of the data buffer the header describes (the tensors cover it exactly).</summary>
    public long DataLength { get; private set; }

    /// <summary>
    /// Parses and validates <paramref name="json"/> (trailing space padding allowed); throws a
    /// <see cref="CheckpointException"/> naming <paramref name="source"/> on any problem.
    /// </summary>
    public static SafeTensorsHeader Parse(byte[] json, string source)
    {
        if (!Utf8.IsValid(json)) throw new CheckpointException(source, "the header is not valid UTF-8");
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException error) { throw new CheckpointException(source, $"the header is not valid JSON ({error.Message})", error); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(source, $"the header is not a JSON object (it is {Describe(root.ValueKind)})");
            var header = new SafeTensorsHeader();
            var seen = new HashSet<string>();
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointException(source, $"the header names '{property.Name}' twice");
                if (property.Name == SafeTensorsFile.MetadataKey) header.ParseMetadata(property.Value, source);
                else header.Tensors.Add(ParseTensor(property.Name, property.Value, source));
            }
            header.DataLength = CheckCoverage(header.Tensors, source);
            return header;
        }
    }

    void ParseMetadata(JsonElement metadata, string source)
    {
        if (metadata.ValueKind == JsonValueKind.Null) return; // what a writer with no metadata may emit
        if (metadata.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(source, $"'{SafeTensorsFile.MetadataKey}' is {Describe(metadata.ValueKind)}, not an object of strings");
        foreach (var property in metadata.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(source, $"'{SafeTensorsFile.MetadataKey}' value of '{property.Name}' is {Describe(property.Value.ValueKind)}; the format allows only strings");
            Metadata[property.Name] = property.Value.GetString()!;
        }
    }

    static TensorLocation ParseTensor(string name, JsonElement info, string source)
    {
        CheckpointException Problem(string problem) => new(source, $"tensor '{name}': {problem}");
        if (info.ValueKind != JsonValueKind.Object) throw Problem($"its header entry is {Describe(info.ValueKind)}, not an object");

        if (!info.TryGetProperty("dtype", out var dtypeElement)) throw Problem("the header entry has no \"dtype\"");
        if (dtypeElement.ValueKind != JsonValueKind.String) throw Problem($"\"dtype\" is {Describe(dtypeElement.ValueKind)}, not a string");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Problem(SafeTensorsDTypes.IsKnownButUnsupported(dtypeName)
                ? $"unsupported dtype '{dtypeName}' (sub-byte types cannot be read)"
                : $"unknown dtype '{dtypeName}'");

        if (!info.TryGetProperty("shape", out var shapeElement)) throw Problem("the header entry has no \"shape\"");
        var shape = ReadIntegers(shapeElement, "shape", Problem);
        var dims = new int[shape.Length];
        for (int axis = 0; axis < shape.Length; axis++)
        {
            if (shape[axis] < 0) throw Problem($"negative dimension {shape[axis]} in shape [{string.Join(", ", shape)}]");
            if (shape[axis] > int.MaxValue) throw Problem($"dimension {shape[axis]} in shape [{string.Join(", ", shape)}] is larger than Forge supports (2^31 − 1)");
            dims[axis] = (int)shape[axis];
        }
        long expectedBytes = SafeTensorsEntry.ExpectedByteCount(dtype, dims, out string? sizeProblem);
        if (sizeProblem != null) throw Problem(sizeProblem);

        if (!info.TryGetProperty("data_offsets", out var offsetsElement)) throw Problem("the header entry has no \"data_offsets\"");
        var offsets = ReadIntegers(offsetsElement, "data_offsets", Problem);
        if (offsets.Length != 2) throw Problem($"\"data_offsets\" has {offsets.Length} numbers, expected 2 (begin, end)");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin) throw Problem($"data_offsets [{begin}, {end}] are not a valid range (need 0 ≤ begin ≤ end)");
        if (end - begin != expectedBytes)
            throw Problem($"data_offsets [{begin}, {end}] hold {end - begin} bytes but shape {Forge.Shape.Format(dims)} of {dtype} needs {expectedBytes}");
        return new TensorLocation(name, dtype, dims, begin, end);
    }

    static long[] ReadIntegers(JsonElement array, string field, Func<string, CheckpointException> problem)
    {
        if (array.ValueKind != JsonValueKind.Array) throw problem($"\"{field}\" is {Describe(array.ValueKind)}, not a list of integers");
        var values = new long[array.GetArrayLength()];
        int index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[index]))
                throw problem($"\"{field}\" element {index} ({item.GetRawText()}) is not an integer");
            index++;
        }
        return values;
    }

    /// <summary>
    /// The spec requires the tensors to tile the data buffer: sorted by offset, each begins where the
    /// previous ends (no overlap, no hole) and the first at 0. Returns the buffer length they cover.
    /// </summary>
    static long CheckCoverage(List<TensorLocation> tensors, string source)
    {
        var sorted = tensors.ToArray();
        Array.Sort(sorted, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string previous = "";
        foreach (var tensor in sorted)
        {
            if (tensor.Begin < covered)
                throw new CheckpointException(source, $"tensors '{previous}' and '{tensor.Name}' overlap in the data buffer ('{tensor.Name}' begins at byte {tensor.Begin}, before byte {covered} where '{previous}' ends)");
            if (tensor.Begin > covered)
                throw new CheckpointException(source, $"bytes [{covered}, {tensor.Begin}) of the data buffer are not covered by any tensor (a hole before '{tensor.Name}'); the format requires the tensors to cover the buffer exactly");
            if (tensor.End > covered) previous = tensor.Name;
            covered = Math.Max(covered, tensor.End);
        }
        return covered;
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    /// <summary>
    /// The header Forge writes: compact JSON, <c>__metadata__</c> first (omitted when empty), then the
    /// tensors in file order with consecutive offsets, padded with spaces so its length is a multiple
    /// of 8 (the data then starts 8-byte aligned, as the reference writer does).
    /// </summary>
    public static byte[] Build(SafeTensorsFile file)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps the quotes of JSON-valued metadata (the model config) readable as \".
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            writer.WriteStartObject();
            if (file.Metadata.Count > 0)
            {
                writer.WriteStartObject(SafeTensorsFile.MetadataKey);
                foreach (var (key, value) in file.Metadata)
                    writer.WriteString(key, value ?? throw new ArgumentException($"SafeTensors.Write: metadata '{key}' of {file.Source} is null; the format allows only strings"));
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var entry in file.Entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType.HeaderName());
                writer.WriteStartArray("shape");
                foreach (int dim in entry.ShapeSpan) writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + entry.ByteCount);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += entry.ByteCount;
            }
            writer.WriteEndObject();
        }
        int padding = (8 - buffer.WrittenCount % 8) % 8;
        buffer.GetSpan(padding)[..padding].Fill((byte)' ');
        buffer.Advance(padding);
        return buffer.WrittenSpan.ToArray();
    }
}
