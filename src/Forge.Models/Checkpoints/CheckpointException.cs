namespace Forge.Models.Checkpoints;

/// <summary>
/// A checkpoint file could not be read, written or used. The message always names the file and the
/// problem, e.g. <c>Checkpoint 'runs/x/step-00000100.safetensors': tensor 'embed.W_E' has shape [10, 4], expected [12, 4]</c>.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>The file (or stream description) the problem is about.</summary>
    public string FileName { get; }

    /// <summary>The problem alone, without the file name.</summary>
    public string Problem { get; }

    public CheckpointException(string fileName, string problem, Exception? innerException = null)
        : base($"Checkpoint '{fileName}': {problem}", innerException)
    {
        FileName = fileName;
        Problem = problem;
    }
}
