namespace Forge.Experiments.TextData;

/// <summary>
/// The folder where Forge keeps things that are expensive to make but can always be made again
/// (downloaded corpora, encoded token streams). Deleting it is always safe: the next run rebuilds
/// what it needs. Nothing in it is a result; results live in run folders.
/// </summary>
public static class ForgeCache
{
    /// <summary>The environment variable that moves the cache (for a shared disk, a test, or a read-only home).</summary>
    public const string Variable = "FORGE_CACHE";

    /// <summary>
    /// <c>$FORGE_CACHE</c> when set, else <c>~/.cache/forge</c>, read at each call so that a test (or a
    /// caller) that sets the variable sees it. The folder is not created here; writers create what they use.
    /// </summary>
    public static string Root()
    {
        string? configured = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "forge");
    }
}
