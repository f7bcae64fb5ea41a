using Forge.Autograd;
using Forge.Models.Hooks;
using Forge.Models.Transformers;

namespace Forge.Experiments.Affine;

/// <summary>
/// Runs a continuous-input (d_in = 1, d_out = 1) model over held-out sequences batch by batch on the CPU,
/// without a tape, with hooks built per batch: the analyses read cached activations and swap in
/// replacements that differ from batch to batch (patching), which a recorded and replayed forward pass
/// (<see cref="Forge.Models.Training.RegressionPredictor{T}"/>) cannot.
/// </summary>
public static class AffineForward
{
    /// <summary>Sequences per forward pass.</summary>
    public const int BatchSize = 512;

    /// <summary>One batch's outputs [rows, positions] and the activations its hooks recorded.</summary>
    public readonly record struct Batch(int Start, int Rows, float[] Outputs, ActivationCache<float>? Cache);

    /// <summary>The model on the CPU: itself, or a copy of a model that lives on a device (analyses read activations on the host).</summary>
    public static Transformer<float> OnCpu(Transformer<float> model) => model.ToDevice(CpuDevice.Instance);

    /// <summary>
    /// Runs <paramref name="model"/> (on the CPU) over <paramref name="inputs"/> [count, positions];
    /// <paramref name="hooksFor"/>(start, rows) gives each batch's hooks (null: none), and
    /// <paramref name="visit"/> sees each batch's outputs and cache.
    /// </summary>
    public static void Run(Transformer<float> model, float[] inputs, int positions, Func<int, int, HookSet<float>?> hooksFor, Action<Batch> visit)
    {
        if (model.Device is not CpuDevice) throw new ArgumentException("AffineForward: the model must be on the CPU (AffineForward.OnCpu)", nameof(model));
        if (model.Config.DIn != 1 || model.Config.DVocabOut != 1)
            throw new ArgumentException($"AffineForward: needs a model with d_in = 1 and d_out = 1, got {model.Config.DIn} and {model.Config.DVocabOut}");
        if (inputs.Length % positions != 0) throw new ArgumentException($"AffineForward: {inputs.Length} inputs are not whole sequences of {positions}");
        int count = inputs.Length / positions;
        using var noGrad = GradMode.NoGrad();
        for (int start = 0; start < count; start += BatchSize)
        {
            int rows = Math.Min(BatchSize, count - start);
            var batch = Tensor.FromArray(inputs.AsSpan(start * positions, rows * positions).ToArray(), [rows, positions, 1]);
            var hooks = hooksFor(start, rows);
            var outputs = model.Forward(batch, hooks).Data.ToArray();   // [rows, positions, 1]
            visit(new Batch(start, rows, outputs, hooks?.Cache));
        }
    }

    /// <summary>The model's predictions [count, positions] with the hooks of each batch (null: the clean model).</summary>
    public static float[] Predict(Transformer<float> model, float[] inputs, int positions, Func<int, int, HookSet<float>?>? hooksFor = null)
    {
        var predictions = new float[inputs.Length];
        Run(model, inputs, positions, hooksFor ?? ((_, _) => null), b => b.Outputs.CopyTo(predictions, b.Start * positions));
        return predictions;
    }

    /// <summary>A cache that records only the named hook points.</summary>
    public static HookSet<float> Recording(params string[] hookNames)
    {
        var wanted = hookNames.ToHashSet();
        return new HookSet<float> { Cache = new ActivationCache<float>(wanted.Contains) };
    }

    /// <summary>
    /// The activation at <paramref name="hookName"/> for every sequence, [count, …] row-major, with its
    /// shape (e.g. the corrupted run's hook_z, patched into the clean run batch by batch).
    /// </summary>
    public static (float[] Values, int[] Shape) Gather(Transformer<float> model, float[] inputs, int positions, string hookName)
    {
        float[]? values = null;
        int[] shape = [];
        int count = inputs.Length / positions;
        Run(model, inputs, positions, (_, _) => Recording(hookName), b =>
        {
            var activation = b.Cache![hookName];
            int perSequence = activation.Length / b.Rows;
            if (values is null)
            {
                values = new float[count * perSequence];
                shape = activation.Shape;
                shape[0] = count;
            }
            activation.ToArray().CopyTo(values, b.Start * perSequence);
        });
        return (values!, shape);
    }

    /// <summary>The mean over sequences of the activation at <paramref name="hookName"/>, position by position: [1, …] (the mean-ablation value).</summary>
    public static Tensor<float> MeanOverSequences(Transformer<float> model, float[] inputs, int positions, string hookName)
    {
        var (values, shape) = Gather(model, inputs, positions, hookName);
        int count = shape[0], perSequence = values.Length / count;
        var sum = new double[perSequence];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < perSequence; j++) sum[j] += values[i * perSequence + j];
        shape[0] = 1;
        return Tensor.FromArray(sum.Select(s => (float)(s / count)).ToArray(), shape);
    }

    /// <summary>Rows [start, start + rows) of a gathered activation, as a tensor of the batch's shape.</summary>
    public static Tensor<float> Slice(float[] values, int[] shape, int start, int rows)
    {
        int perSequence = values.Length / shape[0];
        var batchShape = (int[])shape.Clone();
        batchShape[0] = rows;
        return Tensor.FromArray(values.AsSpan(start * perSequence, rows * perSequence).ToArray(), batchShape);
    }
}
