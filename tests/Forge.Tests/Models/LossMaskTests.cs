using Forge.Models.Checkpoints;
using Forge.Models.Tools;
using Forge.Models.Transformers;

namespace Forge.Tests.Models;

/// <summary>
/// The <c>grads</c> batch in every form PyTorch code writes it — tokens as I64/I32/U8, the loss mask as
/// BOOL/U8/I64/I32/I8/F16/F32/F64, per position [batch, pos] or per prediction [batch, pos − 1] — gives
/// exactly the loss and gradients of the float per-position mask (checked against finite differences in
/// CheckpointAndGradsTests); anything else is a one-line error naming the file, the tensor and the rule.
/// Files are built with Forge's own writer, so this runs without PyTorch.
/// </summary>
public class LossMaskTests
{
    const int Rows = 3, Positions = 6, Vocabulary = 11;

    // Per position, [3, 6]; the last column is ignored, so it holds values that must not matter.
    static readonly double[] Mask = [1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1];

    static Transformer<double> Model()
    {
        var model = new Transformer<double>(TransformerTests.Gpt with { NLayers = 1 }, Initialization.Gpt2, new Rng(40));
        foreach (var p in model.Parameters.All.Where(p => p.Name!.Contains("W_")))
            Tensor.Normal(new Rng(41), 0.0, 0.3, p.Shape).AsSpan().CopyTo(p.Data.AsSpan());   // non-trivial gradients
        return model;
    }

    static Tensor<int> Tokens() => TransformerTests.Tokens(new Rng(42), Rows, Positions, Vocabulary);

    /// <summary>The mask without its last column: [3, 5], one entry per prediction.</summary>
    static double[] PerPrediction(double[] perPosition) =>
        Enumerable.Range(0, Rows).SelectMany(b => perPosition.Skip(b * Positions).Take(Positions - 1)).ToArray();

    static SafeTensorsFile Batch(Action<SafeTensorsFile> addMask, Action<SafeTensorsFile>? addTokens = null)
    {
        var batch = new SafeTensorsFile("batch.safetensors");
        if (addTokens is null) batch.Add("tokens", Tokens()); else addTokens(batch);
        addMask(batch);
        return batch;
    }

    static byte[] Bytes(double[] values) => values.Select(v => (byte)v).ToArray();

    static void AssertSameResult(SafeTensorsFile expected, SafeTensorsFile actual, string form)
    {
        Assert.That(actual.Names, Is.EqualTo(expected.Names), form);
        foreach (var name in expected.Names)
            Assert.That(actual.GetDouble(name).ToArray(), Is.EqualTo(expected.GetDouble(name).ToArray()), $"{form}: {name}");
    }

    static IEnumerable<TestCaseData> MaskForms()
    {
        double[] prediction = PerPrediction(Mask);
        int[] byPosition = [Rows, Positions], byPrediction = [Rows, Positions - 1];
        TestCaseData Form(string name, Action<SafeTensorsFile> add) => new TestCaseData(add).SetArgDisplayNames(name);
        yield return Form("F64 [batch, pos-1]", b => b.Add(LossMask.Name, Tensor.FromArray(prediction, byPrediction)));
        yield return Form("F32 [batch, pos]", b => b.Add(LossMask.Name, Tensor.FromArray(Mask.Select(v => (float)v).ToArray(), byPosition)));
        yield return Form("F16 [batch, pos-1]", b => b.Add(LossMask.Name, Tensor.FromArray(prediction.Select(v => (float)v).ToArray(), byPrediction), SafeTensorsDType.F16));
        yield return Form("BOOL [batch, pos]", b => b.Add(LossMask.Name, SafeTensorsDType.BOOL, byPosition, Bytes(Mask)));
        yield return Form("BOOL [batch, pos-1]", b => b.Add(LossMask.Name, SafeTensorsDType.BOOL, byPrediction, Bytes(prediction)));
        yield return Form("U8 [batch, pos]", b => b.Add(LossMask.Name, SafeTensorsDType.U8, byPosition, Bytes(Mask)));
        yield return Form("I8 [batch, pos-1]", b => b.Add(LossMask.Name, SafeTensorsDType.I8, byPrediction, Bytes(prediction)));
        yield return Form("I64 [batch, pos-1]", b => b.Add(LossMask.Name, Tensor.FromArray(prediction.Select(v => (long)v).ToArray(), byPrediction)));
        yield return Form("I32 [batch, pos]", b => b.Add(LossMask.Name, Tensor.FromArray(Mask.Select(v => (int)v).ToArray(), byPosition)));
    }

    [TestCaseSource(nameof(MaskForms))]
    public void EveryMaskFormGivesTheFloatMasksLossAndGradients(Action<SafeTensorsFile> addMask)
    {
        var model = Model();
        var reference = BatchGradients.Compute(model, Batch(b => b.Add(LossMask.Name, Tensor.FromArray(Mask, [Rows, Positions]))));
        AssertSameResult(reference, BatchGradients.Compute(model, Batch(addMask)), "mask form");
    }

    [Test]
    public void TheIgnoredLastColumnDoesNotMatterAndNoMaskCountsEveryPrediction()
    {
        var model = Model();
        var reference = BatchGradients.Compute(model, Batch(b => b.Add(LossMask.Name, Tensor.FromArray(Mask, [Rows, Positions]))));
        var flipped = (double[])Mask.Clone();
        for (int b = 0; b < Rows; b++) flipped[b * Positions + Positions - 1] = 1 - flipped[b * Positions + Positions - 1];
        AssertSameResult(reference, BatchGradients.Compute(model, Batch(b => b.Add(LossMask.Name, Tensor.FromArray(flipped, [Rows, Positions])))), "last column flipped");

        var noMask = BatchGradients.Compute(model, Batch(_ => { }));
        var allOnes = BatchGradients.Compute(model, Batch(b => b.Add(LossMask.Name, SafeTensorsDType.BOOL, [Rows, Positions - 1], Enumerable.Repeat((byte)1, Rows * (Positions - 1)).ToArray())));
        AssertSameResult(noMask, allOnes, "no mask = all predictions");
    }

    [Test]
    public void TokensInAnyIntegerDtypeGiveTheSameResult()
    {
        var model = Model();
        var ids = Tokens().ToArray();
        void AddMask(SafeTensorsFile b) => b.Add(LossMask.Name, SafeTensorsDType.BOOL, [Rows, Positions], Bytes(Mask));
        var i32 = BatchGradients.Compute(model, Batch(AddMask));
        AssertSameResult(i32, BatchGradients.Compute(model, Batch(AddMask, b => b.Add("tokens", Tensor.FromArray(ids.Select(v => (long)v).ToArray(), [Rows, Positions])))), "I64 tokens");
        AssertSameResult(i32, BatchGradients.Compute(model, Batch(AddMask, b => b.Add("tokens", SafeTensorsDType.U8, [Rows, Positions], ids.Select(v => (byte)v).ToArray()))), "U8 tokens");
        var floats = Batch(AddMask, b => b.Add("tokens", Tensor.FromArray(ids.Select(v => (float)v).ToArray(), [Rows, Positions])));
        Assert.That(Assert.Throws<CheckpointException>(() => BatchGradients.Compute(model, floats))!.Message,
            Is.EqualTo("Checkpoint 'batch.safetensors': tensor 'tokens' has dtype F32; token ids must be an integer dtype (I64, I32, …)"));
    }

    static IEnumerable<TestCaseData> BadMasks()
    {
        TestCaseData Bad(string name, Action<SafeTensorsFile> add, string problem) =>
            new TestCaseData(add, "Checkpoint 'batch.safetensors': tensor 'loss_mask' " + problem).SetArgDisplayNames(name);
        const string shapes = "with 'tokens' [3, 6] it must be [3, 6] (one entry per position, the last ignored) or [3, 5] (one entry per prediction)";
        yield return Bad("[3, 4]", b => b.Add(LossMask.Name, Tensor.Zeros<float>(3, 4)), $"has shape [3, 4]; {shapes}");
        yield return Bad("[6, 3]", b => b.Add(LossMask.Name, Tensor.Zeros<float>(6, 3)), $"has shape [6, 3]; {shapes}");
        yield return Bad("[18]", b => b.Add(LossMask.Name, Tensor.Zeros<float>(18)), $"has shape [18]; {shapes}");
        yield return Bad("[3, 6, 1]", b => b.Add(LossMask.Name, Tensor.Zeros<float>(3, 6, 1)), $"has shape [3, 6, 1]; {shapes}");
        yield return Bad("I64 2", b => b.Add(LossMask.Name, Tensor.FromArray(new long[] { 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1 }, [3, 5])),
            "(I64) element [1, 2] is 2; a bool or integer mask holds only 0 and 1 (write weights as a float mask)");
        yield return Bad("U8 255", b => b.Add(LossMask.Name, SafeTensorsDType.U8, [3, 6], [.. new byte[17], 255]),
            "(U8) element [2, 5] is 255; a bool or integer mask holds only 0 and 1 (write weights as a float mask)");
        yield return Bad("BOOL byte 2", b => b.Add(LossMask.Name, SafeTensorsDType.BOOL, [3, 5], [2, .. new byte[14]]),
            "(BOOL) element [0, 0] is the byte 2; a BOOL element must be 0 (false) or 1 (true)");
        yield return Bad("F32 negative", b => b.Add(LossMask.Name, Tensor.FromArray(new float[] { 1, 1, 1, 1, -0.5f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, [3, 5])),
            "(F32) element [0, 4] is -0.5; a float mask holds weights, finite and ≥ 0");
        yield return Bad("F64 NaN", b => b.Add(LossMask.Name, Tensor.FromArray(Enumerable.Repeat(0.0, 17).Append(double.NaN).ToArray(), [3, 6])),
            "(F64) element [2, 5] is NaN; a float mask holds weights, finite and ≥ 0");
        yield return Bad("C64", b => b.Add(LossMask.Name, SafeTensorsDType.C64, [3, 5], new byte[3 * 5 * 8]),
            "has dtype C64; a loss mask is BOOL, an integer dtype (0 or 1) or a float dtype (weights ≥ 0)");
    }

    [TestCaseSource(nameof(BadMasks))]
    public void BadMasksAreOneLineErrorsNamingTheFileTheTensorAndTheRule(Action<SafeTensorsFile> addMask, string message)
    {
        var error = Assert.Throws<CheckpointException>(() => BatchGradients.Compute(Model(), Batch(addMask)))!;
        Assert.That(error.Message, Is.EqualTo(message));
    }

    [Test]
    public void FloatMasksAreWeights()
    {
        // Known answer: weights (2, 0, …) on one row's predictions equal the mean of (CE₀, CE₀) = CE₀ — the
        // same as a mask counting only prediction 0 — and weights 1, 3 equal (CE₀ + 3·CE₁)/4.
        var model = Model();
        double Loss(double[] weights) =>
            BatchGradients.Compute(model, Batch(b => b.Add(LossMask.Name, Tensor.FromArray(weights, [Rows, Positions - 1])))).GetDouble("loss").ToArray()[0];
        double[] Only(params (int Index, double Weight)[] entries)
        {
            var weights = new double[Rows * (Positions - 1)];
            foreach (var (index, weight) in entries) weights[index] = weight;
            return weights;
        }
        double first = Loss(Only((0, 1))), second = Loss(Only((1, 1)));
        Assert.That(Loss(Only((0, 2))), Is.EqualTo(first).Within(1e-15));
        Assert.That(Loss(Only((0, 1), (1, 3))), Is.EqualTo((first + 3 * second) / 4).Within(1e-14));
    }
}
