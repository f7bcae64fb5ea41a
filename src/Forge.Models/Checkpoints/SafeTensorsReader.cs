using System.Buffers.Binary;

namespace Forge.Models.Checkpoints;

/// <summary>
/// Parses a safetensors stream: length prefix, header (validated by <see cref="SafeTensorsHeader"/>),
/// then each tensor's bytes read straight into its own array, in buffer order, so a file is never held
/// twice in memory.
/// </summary>
internal static class SafeTensorsReader
{
    public static SafeTensorsFile Read(Stream stream, string source)
    {
        // Seekable streams (files) are checked against their length before anything large is allocated.
        long? available = stream.CanSeek ? stream.Length - stream.Position : null;
        byte[] headerBytes = ReadHeaderBytes(stream, available, source);
        var header = SafeTensorsHeader.Parse(headerBytes, source);
        if (available is { } total)
        {
            long present = total - 8 - headerBytes.Length;
            if (present < header.DataLength) throw Truncated(source, header.DataLength, present);
            if (present > header.DataLength) throw TrailingBytes(source, header.DataLength, $"{present - header.DataLength}");
        }
        var data = ReadData(stream, header, source);
        var file = new SafeTensorsFile(source);
        foreach (var (key, value) in header.Metadata) file.Metadata[key] = value;
        foreach (var tensor in header.Tensors) file.Add(new SafeTensorsEntry(tensor.Name, tensor.DType, tensor.Shape, data[tensor.Name]));
        return file;
    }

    static byte[] ReadHeaderBytes(Stream stream, long? available, string source)
    {
        Span<byte> prefix = stackalloc byte[8];
        int prefixBytes = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (prefixBytes < 8)
            throw new CheckpointException(source, $"the file is too short ({prefixBytes} bytes) to hold the 8-byte header length; not a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > SafeTensorsHeader.MaxHeaderBytes)
            throw new CheckpointException(source, $"the header length {headerLength} is absurd (more than {SafeTensorsHeader.MaxHeaderBytes} bytes); not a safetensors file");
        if (available is { } total && (long)headerLength > total - 8)
            throw new CheckpointException(source, $"the header length {headerLength} exceeds the {total - 8} bytes that follow it in the file (truncated, or not a safetensors file)");
        var headerBytes = new byte[headerLength];
        int read = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (read < headerBytes.Length)
            throw new CheckpointException(source, $"the file is truncated inside the header ({read} of {headerLength} header bytes present)");
        return headerBytes;
    }

    static Dictionary<string, byte[]> ReadData(Stream stream, SafeTensorsHeader header, string source)
    {
        // The header check guarantees the tensors, sorted by offset, tile the buffer: read them in that order.
        var inBufferOrder = header.Tensors.ToArray();
        Array.Sort(inBufferOrder, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        var data = new Dictionary<string, byte[]>(inBufferOrder.Length);
        foreach (var tensor in inBufferOrder)
        {
            var bytes = new byte[tensor.ByteCount];
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read < bytes.Length) throw Truncated(source, header.DataLength, tensor.Begin + read);
            data.Add(tensor.Name, bytes);
        }
        if (!stream.CanSeek && stream.ReadByte() >= 0) throw TrailingBytes(source, header.DataLength, "at least 1");
        return data;
    }

    static CheckpointException Truncated(string source, long expected, long present) =>
        new(source, $"the file is truncated: the header describes a data buffer of {expected} bytes but only {present} are present");

    static CheckpointException TrailingBytes(string source, long expected, string extra) =>
        new(source, $"{extra} bytes after the end of the data buffer ({expected} bytes) are not covered by any tensor; the format requires the tensors to cover the buffer exactly");
}
