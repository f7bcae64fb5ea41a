using Forge.Models.Checkpoints;

namespace Forge.Tests.Checkpoints;

/// <summary>
/// Atomic writes: a failure at any point leaves the previous file byte-for-byte intact and no temporary
/// file behind; success leaves exactly the new file.
/// </summary>
public class AtomicFileTests
{
    static SafeTensorsFile Checkpoint(float value, int count = 1000)
    {
        var file = new SafeTensorsFile();
        file.Metadata["step"] = value.ToString();
        file.Add("w", Tensor.Full(value, count));
        file.Add("b", Tensor.Full((double)value, 10));
        return file;
    }

    [Test]
    public void WriteCreatesAndReplacesTheFile()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("config.json");
        AtomicFile.WriteAllBytes(path, "first"u8.ToArray());
        Assert.That(File.ReadAllText(path), Is.EqualTo("first"));
        AtomicFile.WriteAllBytes(path, "second, longer"u8.ToArray());
        Assert.That(File.ReadAllText(path), Is.EqualTo("second, longer"));
        AtomicFile.WriteAllBytes(path, "3"u8.ToArray());
        Assert.That(File.ReadAllText(path), Is.EqualTo("3"), "a shorter file is not a prefix of the older one");
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "config.json" }));
    }

    [Test]
    public void ContentIsWrittenToATemporaryFileBesideTheTarget()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("model.safetensors");
        File.WriteAllText(path, "old");
        AtomicFile.Write(path, stream =>
        {
            stream.Write("new"u8);
            var names = scratch.FileNames();
            Assert.That(names, Has.Length.EqualTo(2));
            Assert.That(names, Has.Some.StartsWith("model.safetensors" + AtomicFile.TemporarySuffix));
            Assert.That(File.ReadAllText(path), Is.EqualTo("old"), "the target is untouched while the new content is written");
        });
        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [Test]
    public void FailureWhileWritingKeepsTheOldFileAndRemovesTheTemporaryOne()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("step-00000001.safetensors");
        SafeTensors.Write(path, Checkpoint(1f));
        byte[] before = File.ReadAllBytes(path);

        var injected = new IOException("injected: disk full");
        var thrown = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            // Half of a new checkpoint reaches the temporary file before the failure.
            SafeTensors.Write(new FailingStream(stream, failAfterBytes: 2000, injected), Checkpoint(2f));
        }));
        Assert.That(thrown, Is.SameAs(injected));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(SafeTensors.Read(path).GetFloat("w").ToArray()[0], Is.EqualTo(1f), "the old checkpoint still loads");
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "step-00000001.safetensors" }));
    }

    [Test]
    public void FailureAfterTheContentIsCompleteStillCommitsNothing()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("last.safetensors");
        SafeTensors.Write(path, Checkpoint(1f));
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            SafeTensors.Write(stream, Checkpoint(3f));
            throw new InvalidOperationException("injected after the last byte");
        }));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "last.safetensors" }));
    }

    [Test]
    public void FailedCheckpointWriteIsACheckpointExceptionAndLeavesNoFile()
    {
        using var scratch = new ScratchDirectory();
        // The target is a directory, so the final rename fails after the temporary file is complete.
        string directoryInTheWay = scratch.File("step-00000002.safetensors");
        Directory.CreateDirectory(directoryInTheWay);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Write(directoryInTheWay, Checkpoint(2f)))!;
        Assert.That(error.Message, Does.Contain("step-00000002.safetensors").And.Contain("writing failed"));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "step-00000002.safetensors" }), "only the directory, no temporary file");
        Assert.That(Directory.Exists(directoryInTheWay));

        // The directory does not exist: the temporary file cannot even be created.
        string nowhere = Path.Combine(scratch.Path, "missing", "model.safetensors");
        error = Assert.Throws<CheckpointException>(() => SafeTensors.Write(nowhere, Checkpoint(2f)))!;
        Assert.That(error.Message, Does.Contain("model.safetensors"));
        Assert.That(Directory.Exists(Path.Combine(scratch.Path, "missing")), Is.False);
    }

    [Test]
    public void InvalidMetadataFailsBeforeTheDiskIsTouched()
    {
        using var scratch = new ScratchDirectory();
        string path = scratch.File("model.safetensors");
        SafeTensors.Write(path, Checkpoint(1f));
        byte[] before = File.ReadAllBytes(path);
        var file = Checkpoint(2f);
        file.Metadata["config"] = null!;
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, file));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [Test]
    public void WithoutOverwriteAFileThatExistsIsNeverReplaced()
    {
        // What grads relies on when a file appears at --out between its check and its write.
        using var scratch = new ScratchDirectory();
        string path = scratch.File("grads.safetensors");
        SafeTensors.Write(path, Checkpoint(1f), overwrite: false);   // a new file: written
        byte[] before = File.ReadAllBytes(path);
        var error = Assert.Throws<CheckpointException>(() => SafeTensors.Write(path, Checkpoint(2f), overwrite: false))!;
        Assert.That(error.Message, Does.StartWith($"Checkpoint '{path}': writing failed (").And.EndWith("); any previous file is unchanged"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(scratch.FileNames(), Is.EqualTo(new[] { "grads.safetensors" }), "no temporary file left");
        SafeTensors.Write(path, Checkpoint(3f));   // the default still replaces
        Assert.That(SafeTensors.Read(path).Metadata["step"], Is.EqualTo("3"));
    }
}

/// <summary>Passes writes through to <paramref name="inner"/> until <paramref name="failAfterBytes"/>, then throws.</summary>
sealed class FailingStream(Stream inner, long failAfterBytes, Exception failure) : Stream
{
    long _written;
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long allowed = Math.Min(buffer.Length, failAfterBytes - _written);
        inner.Write(buffer[..(int)allowed]);
        _written += allowed;
        if (allowed < buffer.Length) throw failure;
    }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
