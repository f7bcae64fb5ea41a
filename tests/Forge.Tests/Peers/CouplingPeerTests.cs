using System.Text.Json.Nodes;
using Forge.Experiments.Coupling;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;
using Forge.Tests.Experiments;

namespace Forge.Tests.Peers;

/// <summary>
/// The coupling command against an independent PyTorch implementation of the definitions
/// (bench/peers/coupling_reference.py: Jacobians by torch.autograd in float64, torch.linalg.svd): every entry of
/// every C_K, of the token-wise coupling and every singular value must agree to 1e-4 (the bar; measured
/// agreement is near 1e-12). Skipped, never passed, when PyTorch is not installed for /usr/bin/python3.
/// </summary>
public class CouplingPeerTests
{
    const double Tolerance = 1e-4;

    [TestCase(true)]
    [TestCase(false)]
    public void CouplingMatchesPyTorch(bool withMlp)
    {
        if (PythonPeer.MissingTorch is string why) Assert.Ignore($"PyTorch not installed: {why}");
        using var temp = new TempFolder();
        var config = new TransformerConfig
        {
            NLayers = 3, NHeads = 2, DModel = 12, DHead = 6, DMlp = withMlp ? 24 : null, NCtx = 8, DVocab = 20, DVocabOut = 20, Normalization = "LN",
        };
        string checkpoint = temp.Combine("model.safetensors"), tokens = temp.Combine("tokens.safetensors");
        ModelCheckpoint.Save(checkpoint, new Transformer<float>(config, Initialization.PyTorch, new Rng(21)), step: 100, seed: 21);
        var rng = new Rng(22);
        var ids = new long[3 * 8];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(20);
        var file = new SafeTensorsFile();
        file.Add("tokens", Tensor.FromArray(ids, [3, 8]));   // int64, as PyTorch writes token ids
        SafeTensors.Write(tokens, file);

        var torch = PythonPeer.Start("coupling_reference.py", checkpoint, tokens, temp.Combine("torch.json"), "--k", "3,5", "--positions", "2,5,7", "--token-layer", "1");
        string output = CouplingCommand.Run(new CouplingSettings(checkpoint, null, tokens, "3,5", "2,5,7", 3, 1, "gpt2", 1, temp.Combine("forge")), TextWriter.Null);
        PythonPeer.Finish(torch);

        var forge = JsonNode.Parse(File.ReadAllText(Path.Combine(output, CouplingReport.JsonFile)))!;
        var reference = JsonNode.Parse(File.ReadAllText(temp.Combine("torch.json")))!;
        double worst = 0;
        foreach (var key in new[] { "coupling", "token_coupling" })
            foreach (var k in new[] { "3", "5" })
                worst = Math.Max(worst, MaxDifference(forge[key]![k]!, reference[key]![k]!));
        worst = Math.Max(worst, MaxDifference(forge["singular_values"]!, reference["singular_values"]!));
        TestContext.Out.WriteLine($"largest difference from PyTorch: {worst:E2}");
        Assert.That(worst, Is.LessThan(Tolerance));
    }

    /// <summary>The largest |a − b| over two nested JSON arrays of numbers of the same shape.</summary>
    static double MaxDifference(JsonNode a, JsonNode b)
    {
        if (a is JsonArray x && b is JsonArray y)
        {
            Assert.That(x.Count, Is.EqualTo(y.Count), "shapes differ");
            return x.Zip(y).Select(p => MaxDifference(p.First!, p.Second!)).DefaultIfEmpty(0).Max();
        }
        return Math.Abs(a.GetValue<double>() - b.GetValue<double>());
    }
}
