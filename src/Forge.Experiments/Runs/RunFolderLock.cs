using System.Globalization;
using Forge.Experiments.Cli;

namespace Forge.Experiments.Runs;

/// <summary>
/// The exclusive claim of one process on a run folder, held for the whole run: the file <c>.lock</c> in
/// the folder, opened without sharing. On Linux and macOS .NET backs an unshared open with an advisory
/// <c>flock</c>, on Windows with a share-mode lock; either way the operating system drops it when the
/// process dies, so a killed run never leaves a stale lock. The file itself stays (deleting it on release
/// would let a third process lock a new file while a second still holds the old one). The pid of the
/// holder goes to <c>.lock-owner</c> beside it, for the message a loser gets (a locked file cannot be read
/// on Linux, where .NET locks readers too).
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    /// <summary>The lock file's name inside the run folder.</summary>
    public const string FileName = ".lock";

    /// <summary>The file naming the holder's pid.</summary>
    public const string OwnerFileName = ".lock-owner";

    readonly FileStream _stream;

    RunFolderLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock on <paramref name="root"/> (which must exist), or throws a <see cref="UsageException"/> naming the holder.</summary>
    public static RunFolderLock Acquire(string root)
    {
        string path = Path.Combine(root, FileName);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) when (File.Exists(path))
        {
            throw new UsageException($"run folder '{root}' is in use by another Forge process{Holder(Path.Combine(root, OwnerFileName))}; wait for it to end or choose another --out");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot use run folder '{root}': {e.Message}", e);
        }
        try { File.WriteAllText(Path.Combine(root, OwnerFileName), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // only a message depends on it
        return new RunFolderLock(stream);
    }

    /// <summary>" (pid 1234)" from the owner file, when it can be read.</summary>
    static string Holder(string ownerPath)
    {
        try
        {
            string pid = File.ReadAllText(ownerPath).Trim();
            return int.TryParse(pid, CultureInfo.InvariantCulture, out _) ? $" (pid {pid})" : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public void Dispose() => _stream.Dispose();
}
