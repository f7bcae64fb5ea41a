using Forge.Experiments.Runs;

namespace Forge.Tests.Experiments;

public class AtomicFileTests
{
    TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder();
    [TearDown] public void TearDown() => _temp.Dispose();

    [Test]
    public void Write_ReplacesContent_AndLeavesNoTemporaryFile()
    {
        string path = _temp.Combine("sub", "file.json");
        AtomicFile.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new");
        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
        Assert.That(Directory.GetFiles(_temp.Combine("sub")), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void FailedWrite_KeepsOldContent_AndRemovesTemporaryFile()
    {
        string path = _temp.Combine("summary.json");
        AtomicFile.WriteAllText(path, "old content");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the new"u8);
            throw new IOException("disk full");
        }));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old content"));
        Assert.That(Directory.GetFiles(_temp.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void WriteAllBytes_WritesExactly()
    {
        string path = _temp.Combine("a.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }
}
