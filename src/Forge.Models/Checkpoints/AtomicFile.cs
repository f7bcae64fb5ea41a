using System.Security.Cryptography;

namespace Forge.Models.Checkpoints;

/// <summary>
/// Writes a file so that readers (and a run killed midway) see either the old content or the complete
/// new content, never a mix: the content goes to a temporary file in the same directory, is flushed to
/// the disk, and then renamed over the target (rename within a directory is atomic).
/// </summary>
public static class AtomicFile
{
    /// <summary>The marker in temporary file names: <c>path + ".tmp-" + random hex</c>.</summary>
    public const string TemporarySuffix = ".tmp-";

    /// <summary>
    /// Calls <paramref name="writeContent"/> with a stream on a new temporary file next to
    /// <paramref name="path"/>, flushes it to the disk and moves it over <paramref name="path"/>. If
    /// anything throws, the temporary file is deleted, an existing file at <paramref name="path"/> is left
    /// untouched, and the exception propagates. With <paramref name="overwrite"/> false the final move
    /// refuses to replace an existing file (an <see cref="IOException"/>, the temporary file deleted):
    /// a check made before a long computation cannot be raced by a file created in the meantime.
    /// </summary>
    public static void Write(string path, Action<Stream> writeContent, bool overwrite = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(writeContent);
        string fullPath = Path.GetFullPath(path);
        string temporaryPath = fullPath + TemporarySuffix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            // CreateNew: never reuse (or truncate) a file someone else created under the same name.
            using (var stream = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                writeContent(stream);
                // Flush(true) reaches the disk (fsync); without it a crash after the rename could leave
                // the new name pointing at data that was never written.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporaryPath, fullPath, overwrite);
        }
        catch
        {
            TryDelete(temporaryPath);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> atomically (see <see cref="Write(string, Action{Stream})"/>).</summary>
    public static void WriteAllBytes(string path, ReadOnlyMemory<byte> bytes) => Write(path, stream => stream.Write(bytes.Span));

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark, atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    static void TryDelete(string temporaryPath)
    {
        try { File.Delete(temporaryPath); }
        catch (IOException) { } // the original error matters more than a leftover temporary file
        catch (UnauthorizedAccessException) { }
    }
}
