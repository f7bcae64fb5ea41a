using Forge.Experiments.Cli;
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
    /// <summary>The first <paramref name="count"/> rows of the file's <c>tokens</c>; ids outside the vocabulary and prompts longer than n_ctx are usage errors naming the file.</summary>
    public static IReadOnlyList<int[]> FromFile(string path, TransformerConfig config, int count)
    {
        try
        {
            var file = SafeTensors.Read(path);
            if (!file.Contains("tokens")) throw new UsageException($"--tokens '{path}' holds no tensor 'tokens' (it has: {string.Join(", ", file.Names)})");
            var tokens = file.GetInt32("tokens");
            if (tokens.Rank != 2 || tokens.Size(1) < 1) throw new UsageException($"--tokens '{path}': 'tokens' must be [prompts, positions], got {Shape.Format(tokens.Shape)}");
            int rows = Math.Min(count, tokens.Size(0)), positions = tokens.Size(1);
            if (positions > config.NCtx) throw new UsageException($"--tokens '{path}': prompts of {positions} tokens exceed the model's n_ctx = {config.NCtx}");
            var ids = tokens.ToArray();
            var prompts = new List<int[]>();
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

    /// <summary>The held-out prompts of the run <paramref name="checkpointPath"/> belongs to; a usage error saying what to pass when there is none.</summary>
    public static IReadOnlyList<int[]> FromRun(string checkpointPath, int count)
    {
        string? runDir = RunFolderOf(checkpointPath)
            ?? throw new UsageException($"--checkpoint '{checkpointPath}' is not in a run folder's checkpoints/, so there is no held-out data to measure on: pass --tokens FILE.safetensors");
        var (experiment, folder) = RunFolder.OpenExisting(runDir);
        using (folder)
        {
            var run = experiment.Load(folder);   // the data are a function of the recipe and seed; the weights do not matter here
            return run.HeldOutPrompts(count)
                   ?? throw new UsageException($"the '{experiment.Name}' run in '{runDir}' reads no tokens (continuous inputs): pass --tokens FILE.safetensors");
        }
    }
}
