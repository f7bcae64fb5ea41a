using System.CommandLine;
using Forge.Experiments.Cli;
using Forge.Models.Checkpoints;

namespace Forge.Experiments.Tools;

/// <summary>
/// <c>convert-gpt2</c>: a GPT-2-family checkpoint in the Hugging Face safetensors layout (<c>h.{l}.attn.c_attn.weight</c>,
/// Conv1D orientation) rewritten under the conventions' names with its config, so <c>coupling</c> and every other
/// tool can read it (<see cref="HuggingFaceGpt2"/>).
/// </summary>
public sealed class ConvertGpt2Command : ICliCommand
{
    public Command Create()
    {
        var input = new Option<string>("--in") { Description = "The Hugging Face model.safetensors (GPT2Model or GPT2LMHeadModel names).", HelpName = "FILE.safetensors", Required = true };
        var hfConfig = new Option<string?>("--hf-config") { Description = "The model's Hugging Face config.json (for the head count, and checked against the tensors).", HelpName = "config.json" };
        var heads = new Option<int?>("--heads") { Description = "Attention heads per layer, when there is no config.json.", HelpName = "N" };
        var output = new Option<string>("--out") { Description = "Where to write the converted checkpoint (never the input; an existing file only with --overwrite).", HelpName = "FILE.safetensors", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace --out if it exists (atomically)." };
        var command = new Command("convert-gpt2", "Convert a GPT-2-family checkpoint in the Hugging Face safetensors layout to Forge's conventions (then measure it with coupling --checkpoint).")
        {
            input, hfConfig, heads, output, overwrite,
        };
        command.SetAction(parse =>
        {
            var config = Run(parse.GetValue(input)!, parse.GetValue(hfConfig), parse.GetValue(heads), parse.GetValue(output)!, parse.GetValue(overwrite));
            parse.InvocationConfiguration.Output.WriteLine($"{config.NLayers} blocks, d_model {config.DModel}, {config.NHeads} heads, vocabulary {config.DVocab}, n_ctx {config.NCtx} → {parse.GetValue(output)}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Forge.Models.Transformers.TransformerConfig Run(string inputPath, string? hfConfigPath, int? heads, string outputPath, bool overwrite = false)
    {
        OutputFile.CheckWritable("--out", outputPath, overwrite, ("--in", inputPath), ("--hf-config", hfConfigPath));
        if (heads is < 1) throw new UsageException($"--heads must be positive, got {heads}");
        try
        {
            var file = SafeTensors.Read(inputPath);
            var model = HuggingFaceGpt2.Load(file, hfConfigPath is null ? null : HuggingFaceGpt2.ReadConfig(hfConfigPath), heads);
            ModelCheckpoint.Save(outputPath, model, step: 0, seed: 0);
            return model.Config;
        }
        catch (CheckpointException e) { throw new UsageException(e.Message, e); }
    }
}
