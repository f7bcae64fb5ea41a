using Forge.Experiments.Cli;
using Forge.Experiments.Framework;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;
using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>
/// The prompts the coupling command measures: a user's file (<c>--tokens FILE.safetensors</c>, a tensor
/// <c>tokens</c> [prompts, positions] of any integer dtype — int64 as PyTorch writes it), or the held-out data of
/// the run the checkpoint belongs to (a checkpoint in <c>RUN/checkpoints/</c>: the run's config.json names its
/// experiment, which supplies the prompts).
/// </summary>
public static class CouplingPrompts
{
    /// <summary>
    /// The first <paramref name="count"/> prompts of the file: <c>tokens</c> [prompts, positions] for token models,
    /// <c>inputs</c> [prompts, positions, d_in] for continuous ones. Ids outside the vocabulary, prompts longer than
    /// n_ctx and a missing tensor are usage errors naming the file.
    /// </summary>
    public static IReadOnlyList<ModelPrompt> FromFile(string path, TransformerConfig config, int count)
    {
        try
        {
            var file = SafeTensors.Read(path);
            string name = config.IsContinuous ? "inputs" : "tokens";
            if (!file.Contains(name)) throw new UsageException($"--tokens '{path}' holds no tensor '{name}' (it has: {string.Join(", ", file.Names)}); {(config.IsContinuous ? "a continuous-input model reads 'inputs' [prompts, positions, d_in]" : "'tokens' [prompts, positions]")}");
            if (config.IsContinuous)
            {
                var inputs = file.GetFloat(name);
                int dIn = config.DIn!.Value;
                if (inputs.Rank != 3 || inputs.Size(2) != dIn) throw new UsageException($"--tokens '{path}': 'inputs' must be [prompts, positions, d_in = {dIn}], got {Shape.Format(inputs.Shape)}");
                if (inputs.Size(1) > config.NCtx) throw new UsageException($"--tokens '{path}': prompts of {inputs.Size(1)} positions exceed the model's n_ctx = {config.NCtx}");
                int size = inputs.Size(1) * dIn;
                var values = inputs.ToArray();
                return Enumerable.Range(0, Math.Min(count, inputs.Size(0))).Select(r => ModelPrompt.OfValues(values.AsSpan(r * size, size).ToArray(), dIn)).ToList();
            }
            var tokens = file.GetInt32(name);
            if (tokens.Rank != 2 || tokens.Size(1) < 1) throw new UsageException($"--tokens '{path}': 'tokens' must be [prompts, positions], got {Shape.Format(tokens.Shape)}");
            int rows = Math.Min(count, tokens.Size(0)), positions = tokens.Size(1);
            if (positions > config.NCtx) throw new UsageException($"--tokens '{path}': prompts of {positions} tokens exceed the model's n_ctx = {config.NCtx}");
            var ids = tokens.ToArray();
            var prompts = new List<ModelPrompt>();
            for (int r = 0; r < rows; r++)
            {
                var prompt = ids.AsSpan(r * positions, positions).ToArray();
                foreach (int id in prompt)
                    if ((uint)id >= (uint)config.DVocab) throw new UsageException($"--tokens '{path}': id {id} in prompt {r} is outside the model's vocabulary 0…{config.DVocab - 1}");
                prompts.Add(prompt);
            }
            return prompts;
        }
        catch (CheckpointException e) { throw new UsageException($"--tokens: {e.Message}", e); }
    }

    /// <summary>The run folder holding <paramref name="checkpointPath"/> (its parent's parent with a config.json), or null.</summary>
    public static string? RunFolderOf(string checkpointPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(checkpointPath));
        if (folder is null || Path.GetFileName(folder) != RunFolder.CheckpointsFolderName) return null;
        var run = Path.GetDirectoryName(folder);
        return run is not null && File.Exists(Path.Combine(run, RunFolder.ConfigFileName)) ? run : null;
    }

    /// <summary>The run <paramref name="checkpointPath"/> belongs to (rebuilt from its config.json), or null when the checkpoint is not in a run folder.</summary>
    public static ExperimentRun? RunOf(string checkpointPath)
    {
        if (RunFolderOf(checkpointPath) is not { } runDir) return null;
        var (experiment, folder) = RunFolder.OpenExisting(runDir);
        using (folder) return experiment.Load(folder);   // the data are a function of the recipe and seed; the weights do not matter here
    }

    /// <summary>Up to <paramref name="count"/> of <paramref name="run"/>'s held-out prompts (tokens or continuous inputs); a usage error when it has none.</summary>
    public static IReadOnlyList<ModelPrompt> FromRun(ExperimentRun run, int count)
    {
        if (run.HeldOutPrompts(count) is { } tokens) return tokens.Select(ModelPrompt.OfTokens).ToList();
        int dIn = run.Model.Config.DIn ?? 1;
        return run.HeldOutInputs(count)?.Select(v => ModelPrompt.OfValues(v, dIn)).ToList()
               ?? throw new UsageException("the checkpoint's run offers no held-out prompts: pass --tokens FILE.safetensors");
    }
}
