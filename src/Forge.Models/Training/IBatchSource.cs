namespace Forge.Models.Training;

/// <summary>
/// Where training batches come from. <see cref="Fill"/> must be a pure function of the step (and the
/// source's seed): that is what makes a resumed run see exactly the batches an uninterrupted one would.
/// </summary>
public interface IBatchSource<in TBatch>
{
    /// <summary>Steps in one pass over a fixed data set; 0 for sources that draw fresh samples every step.</summary>
    int StepsPerEpoch { get; }

    /// <summary>Writes the batch of optimizer step <paramref name="step"/> (0-based) into <paramref name="batch"/>.</summary>
    void Fill(int step, TBatch batch);
}
