namespace Forge.Models.Training;

/// <summary>
/// A new batch drawn for every step: the generator gets a random stream derived from the seed and the
/// step number alone, so step s always sees the same batch, resumed or not.
/// </summary>
public sealed class FreshSamples<TBatch>(ulong seed, Action<Rng, TBatch> generate) : IBatchSource<TBatch>
{
    public int StepsPerEpoch => 0;

    public void Fill(int step, TBatch batch) => generate(Rng.ForStream(seed, 1_000_000UL + (ulong)step), batch);
}
