using Forge.Autograd;
using Forge.Experiments.Cli;
using Forge.Experiments.Tools;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;
using Forge.Tests.Experiments;

namespace Forge.Tests.Peers;

/// <summary>
/// convert-gpt2 on files in the Hugging Face GPT-2 layout written by PyTorch with random weights
/// (bench/peers/hf_gpt2_file.py, with an independent GPT-2 forward): the converted checkpoint's logits must match
/// PyTorch's to float32 precision, for GPT2Model names and for GPT2LMHeadModel's prefixed names with lm_head.
/// Skipped, never passed, when PyTorch is not installed for /usr/bin/python3.
/// </summary>
public class HuggingFaceGpt2Tests
{
    [TestCase(false)]
    [TestCase(true)]
    public void ConvertedCheckpointReproducesPyTorchsLogits(bool prefixed)
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        using var temp = new TempFolder();
        string[] arguments = prefixed ? [temp.Combine("hf"), "--prefix"] : [temp.Combine("hf")];
        PythonPeer.Finish(PythonPeer.Start("hf_gpt2_file.py", arguments));
        string converted = temp.Combine("forge.safetensors");
        var config = ConvertGpt2Command.Run(temp.Combine("hf", "model.safetensors"), temp.Combine("hf", "config.json"), null, converted);
        Assert.That((config.NLayers, config.NHeads, config.DModel, config.DMlp, config.NCtx, config.DVocab), Is.EqualTo((2, 3, 24, (int?)96, 10, 37)));

        var (file, read) = ModelCheckpoint.Read(converted);
        var model = ModelCheckpoint.LoadModel<float>(file, read);
        var batch = SafeTensors.Read(temp.Combine("hf", "batch.safetensors"));
        var expected = batch.GetFloat("logits").ToArray();
        float[] actual;
        using (GradMode.NoGrad()) actual = model.Forward(batch.GetInt32("tokens")).Data.ToArray();
        double scale = expected.Max(Math.Abs), worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        TestContext.Out.WriteLine($"max |Δlogit| {worst:E2} at scale {scale:F2}");
        Assert.That(worst, Is.LessThan(1e-5 * scale + 1e-6));
    }

    [Test]
    public void WithoutTheHeadCountTheConverterSaysWhatToGive()
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        using var temp = new TempFolder();
        PythonPeer.Finish(PythonPeer.Start("hf_gpt2_file.py", temp.Combine("hf")));
        var error = Assert.Throws<UsageException>(() => ConvertGpt2Command.Run(temp.Combine("hf", "model.safetensors"), null, null, temp.Combine("out.safetensors")));
        Assert.That(error!.Message, Does.Contain("head count"));
        Assert.That(File.Exists(temp.Combine("out.safetensors")), Is.False);
        // A head count that does not divide the width is refused.
        Assert.Throws<UsageException>(() => ConvertGpt2Command.Run(temp.Combine("hf", "model.safetensors"), null, 5, temp.Combine("out.safetensors")));
    }
}
