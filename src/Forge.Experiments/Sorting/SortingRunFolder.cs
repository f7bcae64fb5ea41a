using Forge.Experiments.Cli;
using Forge.Experiments.Runs;
using Forge.Models.Checkpoints;

namespace Forge.Experiments.Sorting;

/// <summary>Reopens a finished (or interrupted) sorting run: its recipe, seed and length from config.json, and its checkpoints.</summary>
public static class SortingRunFolder
{
    static readonly string[] CommonKeys = ["experiment", "engine_version", "seed", "steps", "device", "threads", "config_file"];

    public static (SortingRecipe Recipe, ulong Seed, int Steps) ReadSettings(RunFolder folder)
    {
        var stored = folder.ReadConfig() ?? throw new UsageException($"'{folder.Root}' has no config.json: not a run folder");
        string experiment = stored["experiment"]?.GetValue<string>() ?? "?";
        if (experiment != "sorting") throw new UsageException($"'{folder.Root}' is a '{experiment}' run, not a sorting run");
        var recipeKeys = stored.DeepClone().AsObject();
        foreach (var key in CommonKeys) recipeKeys.Remove(key);
        var recipe = ConfigFile.Deserialize<SortingRecipe>(recipeKeys, folder.ConfigPath);
        try { recipe.Validate(); }
        catch (ArgumentException e) { throw new UsageException($"{folder.ConfigPath}: {e.Message}", e); }
        return (recipe, stored["seed"]!.GetValue<ulong>(), stored["steps"]!.GetValue<int>());
    }

    /// <summary>The run's data and model, with the weights of checkpoint <paramref name="step"/> (default: the latest).</summary>
    public static SortingTraining Load(RunFolder folder, long? step = null)
    {
        var (recipe, seed, steps) = ReadSettings(folder);
        long chosen = step ?? folder.LatestCheckpointStep() ?? throw new UsageException($"'{folder.Root}' has no checkpoints");
        var training = new SortingTraining(recipe, seed, steps);
        LoadWeights(training, folder.CheckpointPath(chosen));
        return training;
    }

    public static void LoadWeights(SortingTraining training, string checkpointPath)
    {
        try
        {
            var (file, config) = ModelCheckpoint.Read(checkpointPath);
            var loaded = ModelCheckpoint.LoadModel<float>(file, config);
            if (config != training.Model.Config)
                throw new UsageException($"checkpoint '{checkpointPath}' holds a different model ({config.ToJson()}) than the run's recipe");
            for (int i = 0; i < loaded.Parameters.Count; i++)
                loaded.Parameters.All[i].Data.AsSpan().CopyTo(training.Model.Parameters.All[i].Data.AsSpan());
        }
        catch (CheckpointException e) { throw new UsageException(e.Message, e); }
    }
}
