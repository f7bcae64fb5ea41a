using Forge.Experiments.Cli;
using Forge.Experiments.Tools;
using Forge.Models.Checkpoints;
using Forge.Models.Tools;
using Forge.Models.Transformers;
using Forge.Tests.Models;

namespace Forge.Tests.Experiments;

/// <summary>
/// <c>grads</c> on the command line: it never destroys an input or an existing file (one line, exit 2,
/// nothing written), replaces --out only with --overwrite, and reports bad configs and batches as one
/// line naming the file and the key or tensor.
/// </summary>
public class GradsCommandTests
{
    TempFolder _temp = null!;
    string _checkpoint = "", _batch = "", _config = "", _out = "";

    [SetUp]
    public void WriteInputs()
    {
        _temp = new TempFolder();
        (_checkpoint, _batch, _config, _out) = (_temp.Combine("model.safetensors"), _temp.Combine("batch.safetensors"),
            _temp.Combine("cfg.json"), _temp.Combine("grads.safetensors"));
        var config = TransformerTests.Gpt with { NLayers = 1 };
        ModelCheckpoint.Save(_checkpoint, new Transformer<float>(config, Initialization.Gpt2, new Rng(50)), step: 0, seed: 50);
        var batch = new SafeTensorsFile();
        batch.Add("tokens", TransformerTests.Tokens(new Rng(51), 2, 5, 11));
        SafeTensors.Write(_batch, batch);
        File.WriteAllText(_config, config.ToJson());
    }

    [TearDown]
    public void DeleteInputs() => _temp.Dispose();

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var registry = new CommandRegistry().Register(new GradsCommand());
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, registry, output, error);
        return (code, output.ToString(), error.ToString());
    }

    (int Code, string Out, string Err) Grads(string output, params string[] more) =>
        Run(["grads", "--checkpoint", _checkpoint, "--batch", _batch, "--out", output, .. more]);

    /// <summary>Every input's bytes, to show a refused command changed nothing.</summary>
    Dictionary<string, byte[]> Snapshot() => new[] { _checkpoint, _batch, _config }.ToDictionary(path => path, File.ReadAllBytes);

    void AssertUnchanged(Dictionary<string, byte[]> before)
    {
        foreach (var (path, bytes) in before) Assert.That(File.ReadAllBytes(path), Is.EqualTo(bytes), path);
        Assert.That(Directory.GetFiles(_temp.Path).Where(f => f.Contains(AtomicFile.TemporarySuffix)), Is.Empty, "no temporary file");
    }

    [Test]
    public void WritesTheGradientsToANewFile()
    {
        var result = Grads(_out);
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(result.Out, Does.StartWith("loss ").And.Contain(_out));
        Assert.That(SafeTensors.Read(_out).Names, Does.Contain("loss").And.Contain("embed.W_E"));
    }

    [Test]
    public void OutNamingAnInputIsRefusedEvenWithOverwrite()
    {
        var before = Snapshot();
        foreach (var overwrite in new[] { false, true })
        {
            string[] flag = overwrite ? ["--overwrite"] : [];
            CliTests.AssertOneLineUsageError(Grads(_checkpoint, flag),
                $"error: --out '{_checkpoint}' is the same file as --checkpoint '{_checkpoint}'; writing there would destroy it");
            CliTests.AssertOneLineUsageError(Grads(_batch, flag), $"--out '{_batch}' is the same file as --batch '{_batch}'");
            CliTests.AssertOneLineUsageError(Grads(_config, ["--config", _config, .. flag]), $"--out '{_config}' is the same file as --config '{_config}'");
        }
        AssertUnchanged(before);
    }

    [Test]
    public void TheSameFileThroughAnotherPathOrASymlinkIsRecognised()
    {
        var before = Snapshot();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, _checkpoint);
        string dotted = Path.Combine(_temp.Path, "sub", "..", ".", "batch.safetensors");
        CliTests.AssertOneLineUsageError(Grads(relative, "--overwrite"), "is the same file as --checkpoint");
        CliTests.AssertOneLineUsageError(Grads(dotted, "--overwrite"), "is the same file as --batch");

        string fileLink = _temp.Combine("link.safetensors");
        File.CreateSymbolicLink(fileLink, _checkpoint);
        CliTests.AssertOneLineUsageError(Grads(fileLink, "--overwrite"), $"--out '{fileLink}' is the same file as --checkpoint");
        string folderLink = _temp.Combine("linked-folder");
        Directory.CreateSymbolicLink(folderLink, _temp.Path);
        string throughFolder = Path.Combine(folderLink, "batch.safetensors");
        CliTests.AssertOneLineUsageError(Grads(throughFolder, "--overwrite"), "is the same file as --batch");
        // and the other way round: the input named through the link, --out by its real path
        CliTests.AssertOneLineUsageError(Run("grads", "--checkpoint", Path.Combine(folderLink, "model.safetensors"), "--batch", _batch, "--out", _checkpoint, "--overwrite"),
            "is the same file as --checkpoint");
        AssertUnchanged(before);
    }

    [Test]
    public void AnExistingOutIsReplacedOnlyWithOverwrite()
    {
        File.WriteAllText(_out, "keep me");
        CliTests.AssertOneLineUsageError(Grads(_out), $"error: --out '{_out}' already exists; pass --overwrite to replace it");
        Assert.That(File.ReadAllText(_out), Is.EqualTo("keep me"));

        var result = Grads(_out, "--overwrite");
        Assert.That(result.Code, Is.EqualTo(0), result.Err);
        Assert.That(SafeTensors.Read(_out).Contains("loss"));
    }

    [Test]
    public void OutNamingADirectoryIsRefused()
    {
        CliTests.AssertOneLineUsageError(Grads(_temp.Path, "--overwrite"), $"error: --out '{_temp.Path}' is a directory; give the path of the file to write");
    }

    [Test]
    public void ABadConfigIsOneLineNamingTheFileAndTheKeyAndWritesNothing()
    {
        File.WriteAllText(_config, TransformerTests.Gpt.ToJson().Replace("\"d_model\":12", "\"d_model\":12.5"));
        CliTests.AssertOneLineUsageError(Grads(_out, "--config", _config),
            $"error: Checkpoint '{_checkpoint}': config file '{_config}': key 'd_model' must be an integer, got 12.5");
        File.WriteAllText(_config, TransformerTests.Gpt.ToJson().Replace("{", "{\"rotary_pct\":0.25,"));
        CliTests.AssertOneLineUsageError(Grads(_out, "--config", _config), $"config file '{_config}': unknown model config key 'rotary_pct'");
        Assert.That(File.Exists(_out), Is.False);
    }

    [Test]
    public void ABadMaskIsOneLineNamingTheBatchAndWritesNothing()
    {
        var batch = SafeTensors.Read(_batch);
        batch.Add(LossMask.Name, Tensor.Zeros<float>(2, 3));
        SafeTensors.Write(_batch, batch);
        CliTests.AssertOneLineUsageError(Grads(_out),
            $"error: Checkpoint '{_batch}': tensor 'loss_mask' has shape [2, 3]; with 'tokens' [2, 5] it must be [2, 5] (one entry per position, the last ignored) or [2, 4] (one entry per prediction)");
        Assert.That(File.Exists(_out), Is.False);
    }
}
