using Forge.Autograd;
using Forge.Autograd.Optim;
using Forge.Models.Training;
using Forge.Experiments.Affine;
using Forge.Experiments.Language;
using Forge.Experiments.Retrieval;
using Forge.Experiments.Sorting;
using Forge.Models.Transformers;
using Forge.Experiments.Framework;

namespace Forge.Experiments.Benchmarks;

/// <summary>The models whose training step is timed (and raced against the PyTorch peers in bench/peers).</summary>
public enum TrainingCase { SortingBase, Affine3Layer, Retrieval, Lm4Layer }

/// <summary>
/// The four training steps, defined once for the BenchmarkDotNet benchmark, the <c>steps</c> timer and <c>profile</c>
/// (bench/Forge.Bench) and the launch-budget tests (at small widths, through <see cref="Build(TrainingCase, Recipe, ulong, Device?)"/>).
/// bench/peers/torch_steps.py builds the same steps in PyTorch (same shapes, init scale, loss and
/// optimizer); keep the two in sync. Data is random (timing does not depend on the token values),
/// but each loss mask is the one the real task uses, so the loss covers the same positions.
/// </summary>
public static class TrainingCases
{
    /// <summary>Every case, in table order.</summary>
    public static readonly TrainingCase[] All = [TrainingCase.SortingBase, TrainingCase.Affine3Layer, TrainingCase.Retrieval, TrainingCase.Lm4Layer];

    /// <summary>The short name used on command lines (and by torch_steps.py): sorting, affine, retrieval, lm.</summary>
    public static string CliName(TrainingCase model) => model switch
    {
        TrainingCase.SortingBase => "sorting",
        TrainingCase.Affine3Layer => "affine",
        TrainingCase.Retrieval => "retrieval",
        TrainingCase.Lm4Layer => "lm",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>The case of a short name; throws an <see cref="ArgumentException"/> listing the valid names.</summary>
    public static TrainingCase Parse(string name)
    {
        foreach (var model in All)
            if (string.Equals(CliName(model), name, StringComparison.OrdinalIgnoreCase)) return model;
        throw new ArgumentException($"unknown case \"{name}\" (expected one of: {string.Join(", ", All.Select(CliName))})");
    }

    /// <summary>Sorting (sorting.md): the <c>sorting</c> experiment's defaults — 1 attention-only layer, 2 heads, d_model 96, context 21, batch 512, Adam with coupled L2 weight decay.</summary>
    public static readonly SortingRecipe SortingRecipe = new();

    /// <summary>Affine recurrence (affine.md): the <c>affine</c> experiment's defaults — 3 layers, d_model 64, 4 heads, d_mlp 256, 15 positions, scalar in and out, batch 256, MSE, AdamW, global-norm clipping at 1.</summary>
    public static readonly AffineRecipe AffineRecipe = new();

    /// <summary>Retrieval (retrieval.md): the <c>retrieval</c> experiment's defaults — 3 attention-only layers, d_model 64, 4 heads, context 11, vocabulary 67, batch 128, cross-entropy at the answer position, AdamW, PyTorch-style init.</summary>
    public static readonly RetrievalRecipe RetrievalRecipe = new();

    /// <summary>Language model (coupling.md): the <c>lm</c> experiment's defaults — 4 layers, d_model 128, 4 heads, d_mlp 512, context 64, vocabulary 2,049, batch 32, next-token cross-entropy, AdamW wd 0.1.</summary>
    public static readonly LmRecipe LmRecipe = new();

    /// <summary>The recipe a case's experiment trains by default.</summary>
    public static Recipe DefaultRecipe(TrainingCase model) => model switch
    {
        TrainingCase.SortingBase => SortingRecipe,
        TrainingCase.Affine3Layer => AffineRecipe,
        TrainingCase.Retrieval => RetrievalRecipe,
        TrainingCase.Lm4Layer => LmRecipe,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>Builds the model its experiment trains by default, fills a random batch and records the step's forward pass once, ready to replay.</summary>
    /// <param name="microBatch">Overrides the recipe's micro_batch, sequences per micro-batch (null: the experiment's default; 0: whole batches).</param>
    public static TrainingStep Build(TrainingCase model, ulong seed = 0, Device? device = null, int? microBatch = null) =>
        Build(model, microBatch is int k ? DefaultRecipe(model) with { MicroBatch = k } : DefaultRecipe(model), seed, device);

    /// <summary>
    /// The same with another recipe of the case's experiment (e.g. narrower, for a test on a slow device):
    /// <paramref name="recipe"/> must be a <see cref="Sorting.SortingRecipe"/>, <see cref="Affine.AffineRecipe"/>,
    /// <see cref="Retrieval.RetrievalRecipe"/> or <see cref="Language.LmRecipe"/> as the case says.
    /// </summary>
    public static TrainingStep Build(TrainingCase model, Recipe recipe, ulong seed = 0, Device? device = null)
    {
        var rng = new Rng(seed);
        device ??= CpuDevice.Instance;
        return (model, recipe) switch
        {
            (TrainingCase.SortingBase, SortingRecipe sorting) => TokenStep(sorting.ModelConfig, Initialization.Sorting, sorting.BatchSize, sorting.MicroBatchCount(sorting.BatchSize), rng, device,
                sorting.Task.PositionMask(), p => new Adam<float>(p, sorting.LearningRate, weightDecay: sorting.WeightDecay)),
            (TrainingCase.Affine3Layer, AffineRecipe affine) => RegressionStep(affine, rng, device),
            (TrainingCase.Retrieval, RetrievalRecipe retrieval) => TokenStep(retrieval.ModelConfig, retrieval.Initialization, retrieval.BatchSize, retrieval.MicroBatchCount(retrieval.BatchSize), rng, device,
                retrieval.Task.PositionMask(), p => AdamW(p, retrieval)),
            (TrainingCase.Lm4Layer, LmRecipe lm) => TokenStep(lm.ModelConfig, lm.Initialization, lm.BatchSize, lm.MicroBatchCount(lm.BatchSize), rng, device,
                NextTokenMask(lm.Context), p => AdamW(p, lm)),
            _ => throw new ArgumentException($"case {CliName(model)} needs its own experiment's recipe, not a {recipe.GetType().Name}", nameof(recipe)),
        };
    }

    static Adam<float> AdamW(IEnumerable<Var<float>> parameters, GptRecipe recipe) =>
        new(parameters, recipe.LearningRate, weightDecay: recipe.WeightDecay, decoupled: true);

    // The language model's windows: every prediction that has a next token in the window counts.
    static float[] NextTokenMask(int positions)
    {
        var mask = new float[positions];
        for (int p = 0; p < positions - 1; p++) mask[p] = 1;
        return mask;
    }

    static TrainingStep TokenStep(TransformerConfig config, Initialization init, int batchSize, int microBatches, Rng rng, Device device,
        float[] positionMask, Func<IEnumerable<Var<float>>, Optimizer<float>> optimizer)
    {
        var model = new Transformer<float>(config, init, rng, device);
        var batch = new TokenBatch<float>(batchSize, config.NCtx, device);
        // Targets are random tokens too (not the next input token), so the last position can carry one.
        Span<int> tokens = batch.HostTokens.AsSpan(), targets = batch.HostTargets.AsSpan();
        Span<float> mask = batch.HostMask.AsSpan();
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.NextInt(config.DVocab);
            targets[i] = rng.NextInt(config.DVocabOut);
            mask[i] = positionMask[i % config.NCtx];
        }
        batch.Upload();
        var gradient = MicroBatches.Of(model, batch, microBatches, TokenLoss.MaskedCrossEntropy);
        var step = new TrainingStep(gradient, optimizer(model.Parameters.All), model.Parameters.ElementCount);
        step.Forward();   // records
        return step;
    }

    static TrainingStep RegressionStep(AffineRecipe recipe, Rng rng, Device device)
    {
        var config = recipe.ModelConfig;
        var model = new Transformer<float>(config, recipe.Initialization, rng, device);
        var batch = new RegressionBatch<float>(recipe.BatchSize, config.NCtx, config.DIn!.Value, config.DVocabOut, device);
        Tensor.Uniform(rng, -1f, 1f, batch.HostInputs.Shape).AsSpan().CopyTo(batch.HostInputs.AsSpan());
        Tensor.Uniform(rng, -1f, 1f, batch.HostTargets.Shape).AsSpan().CopyTo(batch.HostTargets.AsSpan());
        batch.Upload();
        var gradient = MicroBatches.Of(model, batch, recipe.MicroBatchCount(recipe.BatchSize),
            static (m, part) => Functional.MseLoss(m.Forward(part.Inputs), Var<float>.Constant(part.Targets)));
        var step = new TrainingStep(gradient, AdamW(model.Parameters.All, recipe), model.Parameters.ElementCount) { ClipNorm = recipe.ClipNorm };
        step.Forward();   // records
        return step;
    }
}
