namespace Forge.Models.Training;

/// <summary>The learning rate for each optimizer step (0-based), a pure function of the step so a resumed run gets the same rates.</summary>
public abstract record LearningRateSchedule
{
    public abstract double At(int step);

    /// <summary>The same rate throughout.</summary>
    public sealed record Constant(double Rate) : LearningRateSchedule
    {
        public override double At(int step) => Rate;
    }

    /// <summary>Linear from <paramref name="Start"/> at step 0 to <paramref name="End"/> at the last step, updated every step.</summary>
    public sealed record Linear(double Start, double End, int TotalSteps) : LearningRateSchedule
    {
        public override double At(int step) => TotalSteps <= 1 ? Start : Start + (End - Start) * Math.Min(step, TotalSteps - 1) / (TotalSteps - 1);
    }

    /// <summary>
    /// Linear over epochs, constant within one: epoch e of E uses Start + (End − Start)·e/(E − 1)
    /// (the sorting recipe's 1e-3 → 1e-4 "updated per epoch").
    /// </summary>
    public sealed record PerEpochLinear(double Start, double End, int Epochs, int StepsPerEpoch) : LearningRateSchedule
    {
        public override double At(int step)
        {
            int epoch = Math.Min(step / StepsPerEpoch, Epochs - 1);
            return Epochs <= 1 ? Start : Start + (End - Start) * epoch / (Epochs - 1);
        }
    }

    /// <summary>Linear warm-up from 0 to <paramref name="Peak"/> over <paramref name="WarmupSteps"/>, then cosine decay to <paramref name="Minimum"/> at <paramref name="TotalSteps"/>.</summary>
    public sealed record WarmupCosine(double Peak, int WarmupSteps, int TotalSteps, double Minimum = 0) : LearningRateSchedule
    {
        public override double At(int step)
        {
            if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
            double progress = TotalSteps <= WarmupSteps ? 1 : Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
            return Minimum + (Peak - Minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress));
        }
    }

    /// <summary>Parses the command-line names: constant, linear, epoch-linear, warmup-cosine.</summary>
    public static LearningRateSchedule Parse(string name, double rate, double finalRate, int totalSteps, int stepsPerEpoch, int warmupSteps) => name switch
    {
        "constant" => new Constant(rate),
        "linear" => new Linear(rate, finalRate, totalSteps),
        "epoch-linear" => new PerEpochLinear(rate, finalRate, Math.Max(1, (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch), stepsPerEpoch),
        "warmup-cosine" => new WarmupCosine(rate, warmupSteps, totalSteps, finalRate),
        _ => throw new ArgumentException($"unknown learning-rate schedule '{name}' (constant, linear, epoch-linear, warmup-cosine)"),
    };
}
