using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Checkpoints;
using Forge.Models.Tools;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

public class CheckpointAndGradsTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "forge-ckpt-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void ModelAndOptimizerRoundTripThroughAStandardSafetensorsFile()
    {
        var model = new Transformer<float>(TransformerTests.Gpt, Initialization.Gpt2, new Rng(30));
        var optimizer = new Adam<float>(model.Parameters.All, 1e-3);
        var tape = new Tape<float>();
        var tokens = TransformerTests.Tokens(new Rng(31), 2, 8, 11);
        Var<float> loss;
        using (tape.Record()) loss = model.Forward(tokens).CrossEntropy(tokens);
        tape.Backward(loss);
        optimizer.Step();

        string path = Path.Combine(_dir, "step-00000001.safetensors");
        ModelCheckpoint.Save(path, model, step: 1, seed: 42, optimizer);
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.That(header, Does.StartWith("{").And.Contain("\"blocks.0.attn.W_Q\":{\"dtype\":\"F32\",\"shape\":[3,12,4]").And.Contain("\"__metadata__\""));

        var (file, config) = ModelCheckpoint.Read(path);
        Assert.That(config, Is.EqualTo(TransformerTests.Gpt));
        Assert.That(file.Metadata["seed"], Is.EqualTo("42"));
        Assert.That(ModelCheckpoint.Step(file), Is.EqualTo(1));
        var loaded = ModelCheckpoint.LoadModel<float>(file, config);
        foreach (var p in model.Parameters.All)
            Assert.That(loaded.Parameters[p.Name!].Data.ToArray(), Is.EqualTo(p.Data.ToArray()), p.Name);
        var restored = new Adam<float>(loaded.Parameters.All, 1e-3);
        ModelCheckpoint.LoadOptimizer(file, restored);
        Assert.That(restored.StepCount, Is.EqualTo(1));
        foreach (var ((name, a), (_, b)) in optimizer.State().Zip(restored.State())) Assert.That(b.ToArray(), Is.EqualTo(a.ToArray()), name);
    }

    [Test]
    public void MissingTensorsWrongShapesAndMissingConfigAreNamed()
    {
        var model = new Transformer<float>(TransformerTests.Gpt, Initialization.Gpt2, new Rng(32));
        string path = Path.Combine(_dir, "model.safetensors");
        ModelCheckpoint.Save(path, model, 0, 0);
        var (file, config) = ModelCheckpoint.Read(path);

        var bigger = config with { DModel = 16 };
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.LoadModel<float>(file, bigger))!;
        Assert.That(e.Message, Does.Contain("model.safetensors").And.Contain("embed.W_E"));

        var withMlp = TransformerTests.Gpt with { NLayers = 3 };
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.LoadModel<float>(file, withMlp))!;
        Assert.That(e.Message, Does.Contain("blocks.2"));

        var bare = new SafeTensorsFile();
        bare.Add("embed.W_E", Tensor.Zeros<float>(2, 2));
        string barePath = Path.Combine(_dir, "bare.safetensors");
        SafeTensors.Write(barePath, bare);
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(barePath))!;
        Assert.That(e.Message, Does.Contain("bare.safetensors").And.Contain("--config"));
        string configPath = Path.Combine(_dir, "config.json");
        File.WriteAllText(configPath, config.ToJson());
        Assert.That(ModelCheckpoint.Read(barePath, configPath).Config, Is.EqualTo(config));
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.LoadOptimizer(file, new Adam<float>(model.Parameters.All, 1e-3)))!;
        Assert.That(e.Message, Does.Contain("no optimizer state"));
    }

    [Test]
    public void GradsAgreeWithFiniteDifferencesAndHonourTheLossMask()
    {
        var config = TransformerTests.Gpt with { NLayers = 1 };
        var model = new Transformer<double>(config, Initialization.Gpt2, new Rng(33));
        foreach (var p in model.Parameters.All.Where(p => p.Name!.Contains("W_")))
            Tensor.Normal(new Rng(34), 0.0, 0.3, p.Shape).AsSpan().CopyTo(p.Data.AsSpan()); // a model with non-trivial gradients
        var tokens = TransformerTests.Tokens(new Rng(35), 3, 6, 11);
        var mask = Tensor.FromArray(new[] { 1.0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0 }, [3, 6]);
        var batch = new SafeTensorsFile();
        batch.Add("tokens", tokens);
        batch.Add("loss_mask", mask);
        var grads = BatchGradients.Compute(model, batch);
        Assert.That(grads.GetDouble("loss").Shape, Is.Empty);

        double Loss()
        {
            // independent formula: mean over counted (b, p < pos−1) of −log softmax(logits[b, p])[tokens[b, p+1]]
            using (GradMode.NoGrad())
            {
                var logits = model.Forward(tokens).Data;
                double sum = 0, count = 0;
                for (int b = 0; b < 3; b++)
                    for (int p = 0; p < 5; p++)
                    {
                        if (mask[b, p] == 0) continue;
                        double max = Enumerable.Range(0, 11).Max(v => logits[b, p, v]);
                        double lse = max + Math.Log(Enumerable.Range(0, 11).Sum(v => Math.Exp(logits[b, p, v] - max)));
                        sum += lse - logits[b, p, tokens[b, p + 1]];
                        count++;
                    }
                return sum / count;
            }
        }
        Assert.That(grads.GetDouble("loss").ToArray()[0], Is.EqualTo(Loss()).Within(1e-12));
        foreach (var name in new[] { "embed.W_E", "blocks.0.attn.W_Q", "blocks.0.attn.b_V", "blocks.0.mlp.W_in", "unembed.b_U", "ln_final.w" })
        {
            var parameter = model.Parameters[name].Data.AsSpan();
            var gradient = grads.GetDouble(name).AsSpan();
            for (int i = 0; i < parameter.Length; i += Math.Max(1, parameter.Length / 7))
            {
                double original = parameter[i];
                parameter[i] = original + 1e-6; double plus = Loss();
                parameter[i] = original - 1e-6; double minus = Loss();
                parameter[i] = original;
                double numeric = (plus - minus) / 2e-6;
                Assert.That(gradient[i], Is.EqualTo(numeric).Within(1e-7 + 1e-5 * Math.Abs(numeric)), $"{name}[{i}]");
            }
        }
    }

    [Test]
    public void GradsRefuseBadBatches()
    {
        var model = new Transformer<float>(TransformerTests.Gpt, Initialization.Gpt2, new Rng(36));
        var batch = new SafeTensorsFile("batch.safetensors");
        batch.Add("tokens", Tensor.FromArray(new[] { 1, 2, 99 }, [1, 3]));
        Assert.That(Assert.Throws<CheckpointException>(() => BatchGradients.Compute(model, batch))!.Message, Does.Contain("99").And.Contain("batch.safetensors"));
        var empty = new SafeTensorsFile("empty.safetensors");
        Assert.That(Assert.Throws<CheckpointException>(() => BatchGradients.Compute(model, empty))!.Message, Does.Contain("tokens"));
    }
}
