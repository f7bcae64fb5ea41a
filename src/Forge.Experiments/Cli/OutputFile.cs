namespace Forge.Experiments.Cli;

/// <summary>
/// Guards a file a command is about to write (<c>--out FILE</c>), before any work, so that — as the
/// conventions ask — nothing already written is destroyed: the file must not be one of the command's
/// own inputs (never, even with <c>--overwrite</c>), must not be a directory, and must not exist unless
/// the user asked to replace it. The write itself must then be atomic and refuse to replace a file that
/// appeared meanwhile (<c>SafeTensors.Write(path, file, overwrite)</c>).
/// </summary>
public static class OutputFile
{
    /// <summary>
    /// Throws a one-line <see cref="UsageException"/> naming both options and paths when
    /// <paramref name="outputPath"/> is the same file as one of <paramref name="inputs"/> (compared by
    /// <see cref="CanonicalPath"/>: relative paths, <c>./</c>, <c>..</c> and symbolic links anywhere along
    /// the path are seen through; hard links are not), is a directory, or exists while
    /// <paramref name="overwrite"/> is false. Inputs whose path is null (an option not given) are skipped.
    /// </summary>
    public static void CheckWritable(string outputOption, string outputPath, bool overwrite, params (string Option, string? Path)[] inputs)
    {
        string target = CanonicalPath(outputPath);
        foreach (var (option, path) in inputs)
            if (path is not null && string.Equals(target, CanonicalPath(path), PathComparison))
                throw new UsageException($"{outputOption} '{outputPath}' is the same file as {option} '{path}'; writing there would destroy it");
        if (Directory.Exists(target))
            throw new UsageException($"{outputOption} '{outputPath}' is a directory; give the path of the file to write");
        if (File.Exists(target) && !overwrite)
            throw new UsageException($"{outputOption} '{outputPath}' already exists; pass --overwrite to replace it");
    }

    /// <summary>
    /// The absolute path of <paramref name="path"/> with every symbolic link along it resolved, to its
    /// final target: two paths name the same file when these are equal. Components are resolved left to
    /// right as the kernel does; <c>..</c> is collapsed lexically first (as <see cref="Path.GetFullPath(string)"/>
    /// does), which differs from the kernel only for a <c>..</c> right after a linked directory. A path
    /// that does not exist (yet) is resolved as far as it exists.
    /// </summary>
    public static string CanonicalPath(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "";
        string current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            try
            {
                // FileInfo sees a link to a directory as well as one to a file (lstat); a link's target may
                // itself lie under links, hence the recursion on the target's full path.
                if (new FileInfo(current).LinkTarget is not null && new FileInfo(current).ResolveLinkTarget(returnFinalTarget: true) is { } final)
                    current = CanonicalPath(final.FullName);
            }
            catch (IOException) { }                   // a cycle of links: compare the path as written
            catch (UnauthorizedAccessException) { }
        }
        return current;
    }

    /// <summary>Linux file names are case-sensitive; Windows and macOS (by default) are not.</summary>
    static StringComparison PathComparison => OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
}
