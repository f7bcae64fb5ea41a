using System.Globalization;
using System.Numerics;
using Forge.Autograd.Optim;
using Forge.Models.Transformers;

namespace Forge.Models.Checkpoints;

/// <summary>
/// Model checkpoints in the conventions' safetensors layout: every parameter under its conventions
/// name (F32 for float models, F64 for double ones); metadata <c>config</c> (the model config JSON),
/// <c>step</c> and <c>seed</c>; optionally the optimizer's state as <c>optimizer.&lt;name&gt;</c>
/// tensors (with <c>optimizer_step</c>), which is what a resumed run needs to continue exactly.
/// </summary>
public static class ModelCheckpoint
{
    public const string OptimizerPrefix = "optimizer.";

    public static void Save<T>(string path, Transformer<T> model, int step, ulong seed, Optimizer<T>? optimizer = null,
        IReadOnlyDictionary<string, string>? extraMetadata = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var file = new SafeTensorsFile(path);
        file.Metadata["config"] = model.Config.ToJson();
        file.Metadata["step"] = step.ToString(CultureInfo.InvariantCulture);
        file.Metadata["seed"] = seed.ToString(CultureInfo.InvariantCulture);
        foreach (var p in model.Parameters.All) AddTensor(file, p.Name!, p.Data);
        if (optimizer is not null)
        {
            file.Metadata["optimizer_step"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
            foreach (var (name, buffer) in optimizer.State()) AddTensor(file, OptimizerPrefix + name, buffer);
        }
        if (extraMetadata is not null) foreach (var (key, value) in extraMetadata) file.Metadata[key] = value;
        SafeTensors.Write(path, file);
    }

    /// <summary>
    /// Reads a checkpoint and its model config: from the file's <c>config</c> metadata, or from
    /// <paramref name="configPath"/> (a JSON file with the same object, or a TransformerLens config: see
    /// <see cref="TransformerConfig.FromJson"/>) for checkpoints written elsewhere. A bad config is a
    /// <see cref="CheckpointException"/> naming the checkpoint, the config's source and the key.
    /// </summary>
    public static (SafeTensorsFile File, TransformerConfig Config) Read(string path, string? configPath = null)
    {
        var file = SafeTensors.Read(path);
        string json;
        string source;
        if (configPath is not null)
        {
            if (!File.Exists(configPath)) throw new CheckpointException(configPath, "the config file does not exist");
            (json, source) = (File.ReadAllText(configPath), $"config file '{configPath}'");
        }
        // The exception below names the checkpoint already: the source only says which config it read.
        else if (file.Metadata.TryGetValue("config", out var stored)) (json, source) = (stored, "metadata 'config'");
        else throw new CheckpointException(path, "has no 'config' in its metadata; pass --config FILE.json with the model config");
        try { return (file, TransformerConfig.FromJson(json, source)); }
        catch (ArgumentException e) { throw new CheckpointException(path, e.Message); }
    }

    /// <summary>A model with every parameter taken from <paramref name="file"/> (missing tensors and wrong shapes are errors naming the file).</summary>
    public static Transformer<T> LoadModel<T>(SafeTensorsFile file, TransformerConfig config) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new Transformer<T>(config, Initialization.Gpt2, new Rng(0));
        foreach (var p in model.Parameters.All) ReadInto(file, p.Name!, p.Data);
        return model;
    }

    /// <summary>
    /// Copies the weights of <paramref name="file"/> into <paramref name="model"/>, on whatever device the
    /// model lives (the one weight-loading path: resume, analysis, development). The checkpoint's
    /// config must be the model's.
    /// </summary>
    public static void LoadInto<T>(SafeTensorsFile file, TransformerConfig config, Transformer<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (config != model.Config)
            throw new CheckpointException(file.Source, $"holds a different model ({config.ToJson()}) than expected ({model.Config.ToJson()})");
        foreach (var p in model.Parameters.All) ReadInto(file, p.Name!, p.Data);
    }

    /// <summary>Restores the optimizer's state and step count saved with <see cref="Save"/>.</summary>
    public static void LoadOptimizer<T>(SafeTensorsFile file, Optimizer<T> optimizer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!file.Metadata.TryGetValue("optimizer_step", out var step))
            throw new CheckpointException(file.Source, "holds no optimizer state (it was saved without one), so the run cannot be resumed from it");
        foreach (var (name, buffer) in optimizer.State()) ReadInto(file, OptimizerPrefix + name, buffer);
        optimizer.StepCount = int.Parse(step, CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>step</c> metadata of a checkpoint.</summary>
    public static int Step(SafeTensorsFile file) =>
        file.Metadata.TryGetValue("step", out var s) && int.TryParse(s, CultureInfo.InvariantCulture, out int step) ? step
            : throw new CheckpointException(file.Source, "has no valid 'step' in its metadata");

    /// <summary>Adds a float tensor as F32, a double one as F64 (a host copy of a device tensor).</summary>
    internal static void AddTensor<T>(SafeTensorsFile file, string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        tensor = tensor.ToDevice(CpuDevice.Instance);
        if (typeof(T) == typeof(float)) file.Add(name, (Tensor<float>)(object)tensor);
        else file.Add(name, tensor.Cast<double>());
    }

    /// <summary>Copies tensor <paramref name="name"/> (which must have the destination's shape) into <paramref name="destination"/>, on any device.</summary>
    static void ReadInto<T>(SafeTensorsFile file, string name, Tensor<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = destination.Shape;
        if (typeof(T) == typeof(float)) destination.CopyFrom((Tensor<T>)(object)file.GetFloat(name, shape));
        else destination.CopyFrom(file.GetDouble(name, shape).Cast<T>());
    }
}
