using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Models.Checkpoints;
using Forge.Models.Tools;

namespace Forge.Experiments.Tools;

/// <summary>
/// <c>grads</c>: the loss of one batch and the gradient of every parameter, written as safetensors —
/// for inspecting gradients, teaching with them, and checking Forge against other frameworks.
/// </summary>
public sealed class GradsCommand : ICliCommand
{
    public Command Create()
    {
        var checkpoint = Required("--checkpoint", "FILE.safetensors", "Model checkpoint (conventions' layout; other files need --config).");
        var batch = Required("--batch", "BATCH.safetensors",
            "Token models: 'tokens' [batch, pos] (any integer dtype) and optional 'loss_mask', [batch, pos] (the last column ignored) or [batch, pos-1] (entry p: the prediction made at position p, of token p+1); bool or integer 0/1, or float weights >= 0. Continuous models: 'inputs' [batch, pos, d_in] and 'targets' [batch, pos, d_out].");
        var output = Required("--out", "GRADS.safetensors", "Where to write the scalar 'loss' and each parameter's gradient under its own name (never one of the inputs; an existing file only with --overwrite).");
        var config = new Option<string?>("--config") { Description = "Model config JSON (Forge's keys or a TransformerLens config), for checkpoints without 'config' metadata.", HelpName = "FILE.json" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace --out if it exists (atomically: the old file stays whole until the new one is complete)." };
        var dtype = OptionFactory.Choice("--dtype", "Precision of the computation and of the written gradients.", "f32", "f32", "f64");
        var device = OptionFactory.Device($"Where to compute: {string.Join(", ", DeviceCatalog.KnownNames)}.", () => "cpu");

        var command = new Command("grads",
            "Loss and per-parameter gradients of one batch: mean next-token cross-entropy over the counted positions (token models) or mean squared error (continuous models).")
        {
            checkpoint, batch, output, config, dtype, device, overwrite,
        };
        command.SetAction(parse =>
        {
            var text = parse.InvocationConfiguration.Output;
            double loss = Run(parse.GetValue(checkpoint)!, parse.GetValue(batch)!, parse.GetValue(output)!, parse.GetValue(config), parse.GetValue(dtype) == "f64",
                DeviceCatalog.Resolve(parse.GetValue(device)!), parse.GetValue(overwrite));
            text.WriteLine($"loss {loss:G9}; gradients written to {parse.GetValue(output)}");
            return ExitCodes.Success;
        });
        return command;
    }

    static Option<string> Required(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, Required = true };

    /// <summary>
    /// Computes and writes the gradients; returns the loss. Bad files are usage errors naming the file.
    /// <paramref name="outputPath"/> is checked before anything is read (<see cref="OutputFile.CheckWritable"/>):
    /// never one of the inputs, an existing file only with <paramref name="overwrite"/>; it is written
    /// atomically, and without <paramref name="overwrite"/> a file that appeared during the computation is
    /// not replaced either.
    /// </summary>
    public static double Run(string checkpointPath, string batchPath, string outputPath, string? configPath, bool doublePrecision,
        Device? device = null, bool overwrite = false)
    {
        OutputFile.CheckWritable("--out", outputPath, overwrite, ("--checkpoint", checkpointPath), ("--batch", batchPath), ("--config", configPath));
        try
        {
            var (file, modelConfig) = ModelCheckpoint.Read(checkpointPath, configPath);
            var batchFile = SafeTensors.Read(batchPath);
            SafeTensorsFile result = doublePrecision
                ? BatchGradients.Compute(ModelCheckpoint.LoadModel<double>(file, modelConfig).ToDevice(device ?? CpuDevice.Instance), batchFile)
                : BatchGradients.Compute(ModelCheckpoint.LoadModel<float>(file, modelConfig).ToDevice(device ?? CpuDevice.Instance), batchFile);
            SafeTensors.Write(outputPath, result, overwrite);
            return result.GetDouble("loss").ToArray()[0];
        }
        catch (CheckpointException e) { throw new UsageException(e.Message, e); }
        catch (ShapeException e) { throw new UsageException($"batch '{batchPath}': {e.Message}", e); }
    }
}
