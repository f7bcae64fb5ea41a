using System.Buffers.Binary;
using System.Text;

namespace Forge.Tests.Checkpoints;

/// <summary>Building safetensors bytes by hand (as the spec describes them) and a scratch directory.</summary>
static class HandBuilt
{
    /// <summary>8-byte little-endian length of <paramref name="json"/>'s UTF-8, the JSON, then the data.</summary>
    public static byte[] File(string json, params byte[] data) => File(Encoding.UTF8.GetBytes(json), data);

    public static byte[] File(byte[] header, byte[] data) => File((ulong)header.Length, header, data);

    /// <summary>A file whose length prefix says <paramref name="declaredHeaderLength"/> whatever follows.</summary>
    public static byte[] File(ulong declaredHeaderLength, byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>Pads <paramref name="json"/> with spaces to a multiple of 8 bytes, as the reference writer does.</summary>
    public static string Padded(string json) => json + new string(' ', (8 - Encoding.UTF8.GetByteCount(json) % 8) % 8);
}

/// <summary>A fresh directory under the system temp folder, deleted with its content on dispose.</summary>
sealed class ScratchDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "forge-ckpt-" + Guid.NewGuid().ToString("N"));

    public ScratchDirectory() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every file name in the directory (to spot leftover temporary files).</summary>
    public string[] FileNames() => Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).Order().ToArray()!;

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
