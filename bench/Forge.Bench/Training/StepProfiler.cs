using Forge.Experiments.Benchmarks;
using System.Globalization;
using Forge.Autograd;
using Forge.Kernels.Threading;

namespace Forge.Bench.Training;

/// <summary>
/// <c>profile --case C [--threads N] [--steps S] [--seed K] [--device D] [--by-op]</c>: one training case's step broken down by
/// op (or, with --by-op, by each recorded op with its output shape) and direction with <see cref="TapeProfile"/> — what to optimise next. Each op is timed on its own,
/// so the total is a little above a step's real time (clock reads, no overlap between ops).
/// </summary>
public static class StepProfiler
{
    public static int Run(string[] args)
    {
        bool byOp = args.Contains("--by-op");
        StepTimer.Options options;
        try { options = StepTimer.Options.Parse([.. args.Where(a => a != "--by-op")]); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine("profile --case sorting|affine|retrieval|lm [--threads N] [--steps S] [--warmup W] [--seed K] [--device cpu|cuda|opencl|ilgpu-cpu] [--by-op]");
            return 0;
        }
        ForkJoin.Threads = options.Threads;
        var step = TrainingCases.Build(options.Case, options.Seed, Forge.Kernels.Devices.DeviceNames.Resolve(options.Device), options.MicroBatch);
        for (int i = 0; i < options.Warmup; i++) step.Run();
        var rows = step.Profile(options.Steps, byOp);
        double total = rows.Sum(r => r.MillisecondsPerStep);
        Console.WriteLine($"{TrainingCases.CliName(options.Case)} on {options.Device}: {options.Threads} thread(s), {options.Steps} profiled steps, {total:F2} ms per step in ops");
        int width = Math.Max(22, rows.Max(r => r.Op.Length));
        Console.WriteLine($"{"op".PadRight(width)} {"direction",-9} {"calls",5} {"ms/step",9} {"share",6}");
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Op.PadRight(width)} {r.Direction,-9} {r.CallsPerStep,5} {r.MillisecondsPerStep,9:F3} {r.MillisecondsPerStep / total,6:P0}"));
        return 0;
    }
}
