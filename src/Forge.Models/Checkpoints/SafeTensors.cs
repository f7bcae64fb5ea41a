using System.Buffers.Binary;

namespace Forge.Models.Checkpoints;

/// <summary>
/// Reading and writing the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON describing each tensor (dtype, shape,
/// data_offsets) plus string <c>__metadata__</c>, then the raw little-endian data buffer.
/// Files written here load in the reference reader; files from other writers load here.
/// </summary>
public static class SafeTensors
{
    /// <summary>Reads the file at <paramref name="path"/>; every problem is a <see cref="CheckpointException"/> naming it.</summary>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan); }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(path, "the file does not exist", error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"the file cannot be opened ({error.Message})", error);
        }
        using (stream)
        {
            try { return Read(stream, path); }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new CheckpointException(path, $"reading failed ({error.Message})", error);
            }
        }
    }

    /// <summary>Reads a file held in memory; <paramref name="source"/> names it in error messages.</summary>
    public static SafeTensorsFile Read(byte[] bytes, string source = "(bytes)")
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Read(stream, source);
    }

    /// <summary>
    /// Reads a file from <paramref name="stream"/>, from its current position to its end (the stream need
    /// not be seekable); <paramref name="source"/> names it in error messages.
    /// </summary>
    public static SafeTensorsFile Read(Stream stream, string source = "(stream)")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        return SafeTensorsReader.Read(stream, source);
    }

    /// <summary>
    /// Writes <paramref name="file"/> to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>):
    /// a reader or a killed run sees the previous file or the complete new one, never a partial one.
    /// I/O failures are <see cref="CheckpointException"/>s naming the path. With <paramref name="overwrite"/>
    /// false an existing file at <paramref name="path"/> is never replaced (that is an I/O failure too).
    /// </summary>
    public static void Write(string path, SafeTensorsFile file, bool overwrite = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(file);
        byte[] header = SafeTensorsHeader.Build(file); // before touching the disk: bad metadata fails here
        try { AtomicFile.Write(path, stream => WriteContent(stream, header, file), overwrite); }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"writing failed ({error.Message}); any previous file is unchanged", error);
        }
    }

    /// <summary>Writes <paramref name="file"/> in safetensors format to <paramref name="stream"/> (not atomic).</summary>
    public static void Write(Stream stream, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        WriteContent(stream, SafeTensorsHeader.Build(file), file);
    }

    /// <summary>The bytes of <paramref name="file"/> in safetensors format.</summary>
    public static byte[] ToBytes(SafeTensorsFile file)
    {
        using var stream = new MemoryStream();
        Write(stream, file);
        return stream.ToArray();
    }

    static void WriteContent(Stream stream, byte[] header, SafeTensorsFile file)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var entry in file.Entries) stream.Write(entry.Data);
    }
}
