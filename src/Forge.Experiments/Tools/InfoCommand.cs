using System.CommandLine;
using System.Runtime.InteropServices;
using Forge.Experiments.Cli;
using Forge.Kernels.Threading;

namespace Forge.Experiments.Tools;

/// <summary><c>info</c>: prints the engine version, the CPU, SIMD widths, cores and devices.</summary>
public sealed class InfoCommand : ICliCommand
{
    public Command Create()
    {
        var command = new Command("info", "Print the engine version, CPU, vector widths, core count and available devices.");
        command.SetAction(parseResult =>
        {
            Write(parseResult.InvocationConfiguration.Output);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Writes the report, one "key: value" per line.</summary>
    public static void Write(TextWriter output)
    {
        output.WriteLine($"engine:    Forge {EngineInfo.Version}");
        output.WriteLine($"runtime:   {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
        output.WriteLine($"cpu:       {MachineInfo.CpuName()}");
        output.WriteLine($"isa:       {MachineInfo.InstructionSets()}");
        output.WriteLine($"vectors:   {MachineInfo.VectorWidths()}");
        output.WriteLine($"cores:     {Environment.ProcessorCount} (kernel threads: {ForkJoin.Threads})");
        output.WriteLine($"devices:   {string.Join(", ", DeviceCatalog.AvailableNames)} (default: {DeviceCatalog.BestAvailable})");
    }
}
