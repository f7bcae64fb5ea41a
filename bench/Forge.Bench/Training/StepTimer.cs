using Forge.Experiments.Benchmarks;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Forge.Kernels.Threading;

namespace Forge.Bench.Training;

/// <summary>
/// The <c>steps</c> command: times single training steps of one <see cref="TrainingCase"/> and prints one
/// JSON line (the format bench/peers/torch_steps.py prints too, read by bench/peers/step_race.py).
/// <c>dotnet bench/Forge.Bench/bin/Release/net10.0/Forge.Bench.dll steps --case sorting --threads 2 --warmup 20 --steps 50</c>
/// </summary>
public static class StepTimer
{
    const string Usage = """
        usage: Forge.Bench steps --case sorting|affine|retrieval|lm [--threads N] [--warmup N] [--warmup-seconds S] [--steps N] [--seed N] [--device cpu|cuda|opencl|ilgpu-cpu] [--micro-batch N]
          --threads N          kernel threads, the caller included (default 1)
          --warmup N           untimed steps first (default 20) ...
          --warmup-seconds S   ... and at least S seconds of them, so tiered JIT has optimised the hot code (default 1)
          --steps N            timed steps (default 50)
          --seed N             init and data seed (default 0)
          --device NAME        cpu (SIMD kernels, default), cuda or opencl (ILGPU on a GPU), ilgpu-cpu (the emulator)
          --micro-batch N      sequences per micro-batch, the parts run in parallel (default: the experiment's micro_batch; 0: whole batches)
        Prints one JSON line: per-step times in ms, their median, and the bytes allocated over the timed steps.
        """;

    /// <summary>Runs the command; returns the process exit code (0, or 2 for a bad option).</summary>
    public static int Run(string[] args)
    {
        Options options;
        try { options = Options.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"steps: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (options.Help) { Console.WriteLine(Usage); return 0; }

        ForkJoin.Threads = options.Threads;
        TrainingStep step;
        try { step = TrainingCases.Build(options.Case, options.Seed, Forge.Kernels.Devices.DeviceNames.Resolve(options.Device), options.MicroBatch); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"steps: {e.Message}");
            return 2;
        }
        float initialLoss = step.Loss;   // recording ran the forward pass once on the initial weights

        long warmupEnd = Stopwatch.GetTimestamp() + (long)(options.WarmupSeconds * Stopwatch.Frequency);
        for (int i = 0; i < options.Warmup || Stopwatch.GetTimestamp() < warmupEnd; i++) step.Run();

        var ticks = new long[options.Steps];
        long allBefore = GC.GetTotalAllocatedBytes(precise: true);
        long threadBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < ticks.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step.Run();
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }
        long threadAllocated = GC.GetAllocatedBytesForCurrentThread() - threadBefore;
        long allAllocated = GC.GetTotalAllocatedBytes(precise: true) - allBefore;

        var stepMs = ticks.Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        Console.WriteLine(Json(options, step, stepMs, initialLoss, allAllocated, threadAllocated));
        return 0;
    }

    static string Json(Options options, TrainingStep step, double[] stepMs, float initialLoss, long allAllocated, long threadAllocated)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("engine", "forge");
            json.WriteString("case", TrainingCases.CliName(options.Case));
            json.WriteNumber("threads", options.Threads);
            json.WriteNumber("micro_batches", step.MicroBatches);
            json.WriteString("device", options.Device);
            json.WriteNumber("n_params", step.ParameterCount);
            json.WriteNumber("warmup", options.Warmup);
            json.WriteNumber("steps", options.Steps);
            json.WriteNumber("median_ms", Math.Round(Median(stepMs), 4));
            json.WriteNumber("min_ms", Math.Round(stepMs.Min(), 4));
            json.WriteStartArray("step_ms");
            foreach (double ms in stepMs) json.WriteNumberValue(Math.Round(ms, 4));
            json.WriteEndArray();
            json.WriteNumber("alloc_bytes", allAllocated);             // all threads, over the timed steps
            json.WriteNumber("alloc_bytes_thread", threadAllocated);   // the stepping thread only
            json.WriteNumber("loss_initial", initialLoss);
            json.WriteNumber("loss_last", step.Loss);
            json.WriteString("runtime", $".NET {Environment.Version}");
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    internal sealed record Options(TrainingCase Case, int Threads, int Warmup, double WarmupSeconds, int Steps, ulong Seed, bool Help, string Device = "cpu", int? MicroBatch = null)
    {
        public static Options Parse(string[] args)
        {
            TrainingCase? model = null;
            int threads = 1, warmup = 20, steps = 50;
            double warmupSeconds = 1;
            ulong seed = 0;
            string device = "cpu";
            int? microBatch = null;
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                if (name is "-h" or "--help") return new Options(TrainingCase.SortingBase, 1, 0, 0, 0, 0, Help: true);
                if (i + 1 >= args.Length) throw new ArgumentException($"option {name} needs a value");
                string value = args[++i];
                switch (name)
                {
                    case "--case": model = TrainingCases.Parse(value); break;
                    case "--threads": threads = Int(name, value, min: 1); break;
                    case "--warmup": warmup = Int(name, value, min: 0); break;
                    case "--warmup-seconds": warmupSeconds = Seconds(name, value); break;
                    case "--steps": steps = Int(name, value, min: 1); break;
                    case "--seed": seed = (ulong)Int(name, value, min: 0); break;
                    case "--device": device = value; break;
                    case "--micro-batch": microBatch = Int(name, value, min: 0); break;
                    default: throw new ArgumentException($"unknown option {name}");
                }
            }
            if (model is null) throw new ArgumentException("--case is required");
            return new Options(model.Value, threads, warmup, warmupSeconds, steps, seed, Help: false, device, microBatch);
        }

        static int Int(string name, string value, int min) =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min ? n
                : throw new ArgumentException($"{name} must be an integer ≥ {min}, got \"{value}\"");

        static double Seconds(string name, string value) =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s >= 0 ? s
                : throw new ArgumentException($"{name} must be a number of seconds ≥ 0, got \"{value}\"");
    }
}
