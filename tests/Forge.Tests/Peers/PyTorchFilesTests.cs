using Forge.Experiments.Tools;
using Forge.Models.Checkpoints;
using Forge.Tests.Experiments;

namespace Forge.Tests.Peers;

/// <summary>
/// Files written the way PyTorch and TransformerLens users write them (bench/peers/pytorch_files.py:
/// <c>state_dict()</c> weights, a TransformerLens config dict with <c>d_head</c> 48.0, nulls and every
/// HookedTransformerConfig key, tokens as torch.long, bool/uint8/int64 masks per prediction or per
/// position) give exactly the gradients of the same model and batch written by Forge — through the
/// config in the metadata and through <c>--config FILE.json</c>. Skipped, never passed, without PyTorch.
/// </summary>
public class PyTorchFilesTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(PeerCase peerCase, string mask, string actFn) =>
            new TestCaseData(peerCase, mask, actFn).SetArgDisplayNames($"{peerCase.Name}, mask {mask}, act_fn {actFn}");
        yield return Case(PeerCase.Sorting, "bool-predictions", "gelu_new");       // attention-only: act_fn null
        yield return Case(PeerCase.Gpt, "none", "gelu_new");
        yield return Case(PeerCase.Gpt, "int64-predictions", "gelu_pytorch_tanh");
        yield return Case(PeerCase.NoNormalization, "uint8-positions", "gelu_pytorch_tanh");
        yield return Case(PeerCase.Continuous, "none", "gelu_new");                // d_vocab null, float64 inputs
    }

    [TestCaseSource(nameof(Cases))]
    public void PyTorchWrittenFilesGiveForgesGradients(PeerCase peerCase, string mask, string actFn)
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        using var temp = new TempFolder();
        string checkpoint = temp.Combine("model.safetensors"), batch = temp.Combine("batch.safetensors"), torch = temp.Combine("torch");
        ModelCheckpoint.Save(checkpoint, peerCase.Model(seed: 7), step: 0, seed: 7);
        SafeTensors.Write(batch, peerCase.Batch(new Rng(8)));
        string log = PythonPeer.Finish(PythonPeer.Start("pytorch_files.py", checkpoint, batch, torch, "--mask", mask, "--act-fn", actFn));
        TestContext.Out.WriteLine(log);

        string torchBatch = Path.Combine(torch, "batch.safetensors");
        if (mask != "none") Assert.That(SafeTensors.Read(torchBatch).GetEntry("loss_mask").DType, Is.Not.EqualTo(SafeTensorsDType.F32), "a natural, non-float mask");
        Assert.That(SafeTensors.Read(Path.Combine(torch, "model.safetensors")).Metadata["config"], Does.Contain("\"model_name\": \"custom\""), "a TransformerLens config");

        double expected = GradsCommand.Run(checkpoint, batch, temp.Combine("forge.safetensors"), null, doublePrecision: false);
        double fromMetadata = GradsCommand.Run(Path.Combine(torch, "model.safetensors"), torchBatch, temp.Combine("metadata.safetensors"), null, doublePrecision: false);
        double fromConfigFile = GradsCommand.Run(Path.Combine(torch, "bare.safetensors"), torchBatch, temp.Combine("config-file.safetensors"),
            Path.Combine(torch, "config.json"), doublePrecision: false);
        Assert.That((fromMetadata, fromConfigFile), Is.EqualTo((expected, expected)));

        var reference = SafeTensors.Read(temp.Combine("forge.safetensors"));
        foreach (var other in new[] { "metadata.safetensors", "config-file.safetensors" })
        {
            var result = SafeTensors.Read(temp.Combine(other));
            Assert.That(result.Metadata["config"], Is.EqualTo(reference.Metadata["config"]), $"{other}: the same model config");
            Assert.That(result.Names, Is.EqualTo(reference.Names), other);
            foreach (var name in reference.Names)
                Assert.That(result.GetFloat(name).ToArray(), Is.EqualTo(reference.GetFloat(name).ToArray()), $"{other}: {name}");
        }
    }
}
