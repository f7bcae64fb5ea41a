using System.Text.Json.Nodes;
using Forge.Autograd.Optim;
using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Models.Interpretability;
using Forge.Models.Transformers;

namespace Forge.Tests.Experiments;

/// <summary>A recipe with one setting of each supported kind, for the framework's tests.</summary>
public sealed record FakeRecipe : Recipe
{
    [Setting("Learning rate.", Option = "--lr", Min = 0)]
    public double LearningRate { get; init; } = 1e-3;

    [Setting("Heads.", Min = 1, Max = 8)]
    public int Heads { get; init; } = 2;

    [Setting("Turn the widget off.", Option = "--no-widget", Negated = true)]
    public bool Widget { get; init; } = true;

    [Setting("An optional mean ('none' for none).", Min = 1, NullWord = "none")]
    public double? GapMean { get; init; }

    [Setting("A sampling range.", Min = -10, Max = 10)]
    public Interval Range { get; init; } = new(-1, 1);

    [Setting("A name.")]
    public string Label { get; init; } = "plain";

    public override IEnumerable<Allocation> Allocations() => [new("fake widgets [heads × 1000]", Heads * 1000L, 4)];

    public override void Validate()
    {
        if (Label == "bad") throw new ArgumentException("fake: label 'bad' is not allowed");
        base.Validate();
    }
}

/// <summary>A run that trains nothing: each step returns a fixed loss (or NaN from <see cref="DivergeAt"/>) on a tiny model.</summary>
public sealed class FakeRun : ExperimentRun
{
    public override Initialization ModelInitialization => Initialization.Gpt2;

    public FakeRun(FakeRecipe recipe, ulong seed, int steps, Device device) : base(recipe, seed, steps)
    {
        Model = new Transformer<float>(new TransformerConfig { NLayers = 1, NHeads = 1, DModel = 4, DHead = 4, NCtx = 3, DVocab = 5, DVocabOut = 5 },
            Initialization.Gpt2, Rng.ForStream(seed, 0), device);
        Optimizer = new Adam<float>(Model.Parameters.All, recipe.LearningRate);
    }

    public int? DivergeAt { get; set; }
    public override Transformer<float> Model { get; }
    public override Optimizer<float> Optimizer { get; }
    public override double Step(int step)
    {
        if (step == DivergeAt) throw new Forge.Models.Training.TrainingDivergedException(step, double.NaN);
        return 1.0 / (step + 1);
    }
    public override double LearningRate => 1e-3;
    public override IReadOnlyList<string> EvalColumns { get; } = ["val_loss"];
    public override double[] Evaluate() => [0.5];
    public override double TrainLoss() => 0.25;
    public override LlcResult EstimateLlc(LlcSettings settings, double trainLoss) =>
        new(1, 0, [1], [[trainLoss, trainLoss]], trainLoss, settings.ResolvedNBeta, false);
}

/// <summary>An experiment that records what it was given and can be told to fail.</summary>
public sealed class FakeExperiment : Experiment<FakeRecipe, FakeRun>
{
    public FakeRecipe? Recipe;
    public ulong Seed;
    public int Steps;
    public Device? Device;
    public Exception? ThrowThis;
    public int? DivergeAt;

    public override string Name => "fake";
    public override string Description => "A fake experiment for tests.";
    public override int DefaultSteps(FakeRecipe recipe) => 7325;
    public override string Describe(FakeRecipe recipe) => $"fake, lr {recipe.LearningRate}";

    public override FakeRun CreateRun(FakeRecipe recipe, ulong seed, int steps, Device device)
    {
        if (ThrowThis is not null) throw ThrowThis;
        (Recipe, Seed, Steps, Device) = (recipe, seed, steps, device);
        return new FakeRun(recipe, seed, steps, device) { DivergeAt = DivergeAt };
    }

    protected override AnalysisOutcome Analyze(FakeRun run, RunFolder folder, TextWriter output)
    {
        folder.WriteReport("# fake\n");
        return new AnalysisOutcome("fake analysed", new JsonObject { ["answer"] = 42 });
    }
}
