using Forge.Experiments.Training;
using Forge.Models.Interpretability;

namespace Forge.Experiments.Framework;

/// <summary>
/// The settings record of one experiment: every property marked <see cref="SettingAttribute"/> is an
/// option of the experiment's command and a snake_case key of config.json, and its initializer is the
/// default. A paper derives its own record from this one; the settings every trained model shares —
/// checkpoint grid, evaluation interval and the SGLD estimator of the Local Learning Coefficient —
/// live here once. A paper whose LLC needs other defaults sets them in its constructor.
/// </summary>
public abstract record Recipe
{
    [Setting("Checkpoint steps: log:N (log-spaced), linear:K (every K steps) or log:N+linear:K; the last step always.", HelpName = "GRID")]
    public string Checkpoints { get; init; } = "log:25";

    [Setting("Evaluate on the validation set every this many steps.", Min = 1, HelpName = "N")]
    public int EvalEvery { get; init; } = 500;

    [Setting("CPU only: cut each training batch into micro-batches of about this many sequences; each one's forward and backward runs on one core with its data in cache, the micro-batches in parallel, their gradients summed in a fixed order. The same step up to float rounding; the numbers do not depend on --threads. 0: one pass over the whole batch (always so on a GPU).", Min = 0, HelpName = "N")]
    public int MicroBatch { get; init; }

    /// <summary>How many micro-batches a training batch of <paramref name="rows"/> sequences is cut into (see <see cref="MicroBatch"/>).</summary>
    public int MicroBatchCount(int rows) => Forge.Models.Training.MicroBatches.Count(rows, MicroBatch);

    [Setting("CPU arithmetic on denormal floats (magnitudes below 1.2e-38): keep (IEEE gradual underflow) or flush (to zero, FTZ/DAZ: a confident model's tiny softmax probabilities otherwise slow Intel cores about twice late in training; changes a run's last digits). Flushing needs x86-64 Linux; elsewhere denormals are kept.", HelpName = "keep|flush")]
    public string Denormals { get; init; } = "keep";

    /// <summary>Whether <see cref="Denormals"/> asks for flushing to zero (<c>flush</c>); validated by <see cref="Validate"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public bool FlushesDenormals => Denormals == "flush";

    [Setting("LLC: SGLD chains.", Min = 1, HelpName = "N")]
    public int LlcChains { get; init; } = 4;

    [Setting("LLC: draws per chain after burn-in.", Min = 1, HelpName = "N")]
    public int LlcDraws { get; init; } = 200;

    [Setting("LLC: burn-in steps per chain.", Min = 0, HelpName = "N")]
    public int LlcBurnIn { get; init; } = 100;

    [Setting("LLC: SGLD step size ε.", Min = 0, HelpName = "X")]
    public double LlcEpsilon { get; init; } = 1e-4;

    [Setting("LLC: localisation strength γ.", Min = 0, HelpName = "X")]
    public double LlcGamma { get; init; } = 100;

    [Setting("LLC: nβ, the inverse temperature times the sample size ('auto': batch/ln(batch)).", Option = "--llc-nbeta", Min = 0, NullWord = "auto", HelpName = "X")]
    public double? LlcNBeta { get; init; }

    [Setting("LLC: SGLD minibatch size.", Option = "--llc-batch", Min = 2, HelpName = "N")]
    public int LlcBatchSize { get; init; } = 512;

    /// <summary>The LLC estimator's settings, with <paramref name="seed"/> for its batches and noise.</summary>
    public LlcSettings Llc(ulong seed) => new(LlcChains, LlcDraws, LlcBurnIn, LlcEpsilon, LlcGamma, LlcNBeta, LlcBatchSize, seed);

    /// <summary>
    /// The big buffers a run of this recipe allocates (data sets, model, training and evaluation
    /// batches): checked against the engine's tensor size limit and this machine's memory before
    /// anything is written (<see cref="Footprint"/>).
    /// </summary>
    public abstract IEnumerable<Allocation> Allocations();

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first bad setting. A paper's override checks
    /// its own settings (model size, data) and calls this one.
    /// </summary>
    public virtual void Validate()
    {
        CheckpointGrid.Validate(Checkpoints);
        if (EvalEvery < 1) throw new ArgumentException($"eval_every must be ≥ 1, got {EvalEvery}");
        if (MicroBatch < 0) throw new ArgumentException($"micro_batch must be ≥ 0, got {MicroBatch}");
        if (Denormals is not ("keep" or "flush")) throw new ArgumentException($"denormals must be keep or flush, got '{Denormals}'");
        Llc(0).Validate();
    }
}
