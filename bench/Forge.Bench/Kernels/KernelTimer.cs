using System.Diagnostics;
using System.Globalization;

namespace Forge.Bench.Kernels;

/// <summary>
/// <c>kernels [--threads N] [--calls C]</c>: every <see cref="KernelBenchmarks"/> case timed with a plain
/// Stopwatch loop in this process (median of C calls after a warm-up), scalar and SIMD — a cross-check of
/// BenchmarkDotNet's numbers outside its harness (separate process per case, its own loop and priorities).
/// </summary>
public static class KernelTimer
{
    public static int Run(string[] args)
    {
        int threads = 1, calls = 200;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--threads") threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            else if (args[i] == "--calls") calls = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            else { Console.Error.WriteLine($"kernels: unknown option {args[i]} (--threads N, --calls C)"); return 2; }
        }
        Console.WriteLine($"{"kernel",-22} {"threads",7} {"scalar µs",12} {"SIMD µs",10} {"SIMD p10–p90 µs",18}");
        foreach (var kernel in Enum.GetValues<KernelBenchmarks.Kernel>())
        {
            var bench = new KernelBenchmarks { Case = kernel, Threads = threads };
            bench.Setup();
            var scalar = Time(bench.Scalar, Math.Max(5, calls / 20));
            var simd = Time(bench.Simd, calls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kernel,-22} {threads,7} {scalar[scalar.Length / 2],12:F1} {simd[simd.Length / 2],10:F1} {simd[simd.Length / 10],8:F1}–{simd[simd.Length * 9 / 10],-8:F1}"));
        }
        return 0;
    }

    /// <summary>Sorted per-call times in µs after warm-up calls.</summary>
    static double[] Time(Action call, int calls)
    {
        for (int i = 0; i < Math.Max(3, calls / 10); i++) call();
        var times = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times[i] = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency;
        }
        Array.Sort(times);
        return times;
    }
}
