using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Forge.Tests.Ilgpu;

/// <summary>
/// Compiles every device kernel to PTX (CUDA) and OpenCL C with ILGPU's backends directly, which
/// needs no GPU: on a machine without one this is what catches code the CPU emulator runs but the
/// GPU compilers reject (unsupported .NET calls, shared-memory sizes that are not constants, …).
/// </summary>
[TestFixture]
public class IlgpuGpuCompileTests
{
    /// <summary>Every kernel entry point: the internal static methods of the *Kernels device-code classes with a kernel's signature.</summary>
    static IEnumerable<MethodInfo> KernelMethods()
    {
        var assembly = typeof(IlgpuBackend).Assembly;
        foreach (var type in assembly.GetTypes())
        {
            if (type.Namespace != typeof(IlgpuBackend).Namespace || !type.IsAbstract || !type.IsSealed || !type.Name.EndsWith("Kernels")) continue;
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.NonPublic))
            {
                var parameters = method.GetParameters();
                bool implicitlyGrouped = parameters.Length == 2 && parameters[0].ParameterType == typeof(Index1D);
                bool explicitlyGrouped = parameters.Length == 1 && parameters[0].ParameterType.Name.EndsWith("Args`1");
                if (method.IsAssembly && (implicitlyGrouped || explicitlyGrouped)) yield return method;
            }
        }
    }

    static IEnumerable<(MethodInfo Method, bool Explicit)> Closed(Type element)
    {
        foreach (var method in KernelMethods())
        {
            if (!method.IsGenericMethodDefinition)
            {
                // A kernel written for one element type (the wide float GEMM).
                if (method.GetParameters()[^1].ParameterType.GetGenericArguments()[0] == element) yield return (method, method.GetParameters().Length == 1);
                continue;
            }
            var arguments = method.GetGenericArguments().Length switch
            {
                1 => new[] { element },
                2 => [element, method.Name == "Tiled" ? TilingType() : throw new InvalidOperationException(method.Name)],
                _ => element == typeof(float)
                    ? [typeof(float), typeof(AddFloat), typeof(MaxFloat)]
                    : [typeof(double), typeof(AddDouble), typeof(MaxDouble)],
            };
            yield return (method.MakeGenericMethod(arguments), method.GetParameters().Length == 1);
        }
    }

    static Type TilingType() => typeof(IlgpuBackend).Assembly.GetType("Forge.Kernels.Ilgpu.GpuGemmTiling")!;

    [Test]
    public void EveryKernel_IsFound()
    {
        var names = KernelMethods().Select(m => m.DeclaringType!.Name + "." + m.Name).ToList();
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(30), string.Join(", ", names));
        Assert.That(names, Does.Contain("GemmKernels.Tiled").And.Contain("AttentionKernels.ForwardRow"));
    }

    [Test]
    public void EveryKernel_CompilesToPtx([Values(typeof(float), typeof(double))] Type element)
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        CompileAll(backend, element);
    }

    [Test]
    public void EveryKernel_CompilesToOpenCL([Values(typeof(float), typeof(double))] Type element)
    {
        using var context = Context.Create(builder => builder.OpenCL().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        // float16, float64, generic address space, int64 atomics, subgroups
        var capabilities = new CLCapabilityContext(false, true, true, true, true);
        var backend = new CLBackend(context, capabilities, CLDeviceVendor.Nvidia, CLCVersion.CL20);
        CompileAll(backend, element);
    }

    /// <summary>
    /// The element-wise kernels (contiguous, strided, GELU, the GEMM's per-element passes) decode their indices with 32-bit arithmetic:
    /// in PTX a 64-bit division or remainder is a long subroutine, and the strided decode divides once
    /// per axis for every element (the GPU analysis of issue 17 found 11 of them per call). Prints the
    /// count of every kernel, so the ones still left are visible.
    /// </summary>
    [Test]
    public void ElementwiseKernels_HaveNo64BitDivisionInTheirPtx()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        string[] mustBe32Bit = ["ElementwiseKernels", "StridedElementwiseKernels", "GeluKernels", "GemmKernels"];
        var offenders = new List<string>();
        foreach (var (method, isExplicit) in Closed(typeof(float)))
        {
            string ptx = PtxOf(backend, method, isExplicit);
            int divisions = Regex.Matches(ptx, @"\b(div|rem)\.[su]64\b").Count;
            string name = method.DeclaringType!.Name + "." + method.Name;
            TestContext.Out.WriteLine($"{name}: {divisions} 64-bit div/rem");
            if (divisions > 0 && mustBe32Bit.Contains(method.DeclaringType!.Name)) offenders.Add($"{name}: {divisions}");
        }
        Assert.That(offenders, Is.Empty, "64-bit div/rem in element-wise kernels:\n" + string.Join("\n", offenders));
    }

    /// <summary>
    /// The wide GEMM's inner loop reads its shared tiles as vectors (<c>ld.shared.v4.f32</c>, the point of the
    /// kernel: 4 loads per 64 multiply-adds) and keeps its 64 accumulators in registers (no <c>.local</c> memory).
    /// </summary>
    [Test]
    public void WideGemm_ReadsSharedMemoryAsVectors_AndSpillsNothing()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        var method = typeof(IlgpuBackend).Assembly.GetType("Forge.Kernels.Ilgpu.GemmWideKernels")!
            .GetMethod("Tiled", BindingFlags.Static | BindingFlags.NonPublic)!;
        string ptx = PtxOf(backend, method, isExplicit: true);
        int vectorLoads = Regex.Matches(ptx, @"ld\.shared\.v4\.f32").Count;
        int fma = Regex.Matches(ptx, @"\bfma\.rn\.f32").Count, mul = Regex.Matches(ptx, @"\bmul(\.rn)?\.f32").Count, add = Regex.Matches(ptx, @"\badd(\.rn)?\.f32").Count;
        TestContext.Out.WriteLine($"ld.shared.v4.f32: {vectorLoads}, ld.shared.f32: {Regex.Matches(ptx, @"ld\.shared\.f32").Count}, fma.f32: {fma}, mul.f32: {mul}, add.f32: {add}");
        Assert.That(vectorLoads, Is.GreaterThanOrEqualTo(4), "vector loads of the shared tiles");
        Assert.That(fma + Math.Min(mul, add), Is.GreaterThanOrEqualTo(64), "the 64 multiply-adds of a k step (ptxas fuses mul + add)");
        Assert.That(Regex.IsMatch(ptx, @"\.f64\b"), Is.False, "no double-precision arithmetic");
        Assert.That(ptx, Does.Not.Contain(".local"), "local memory (spilled accumulators)");
    }

    /// <summary>
    /// The one-group-per-pair attention kernels work from shared memory (their products read <c>ld.shared</c>, not
    /// global memory, in the inner loops), keep everything in registers (no <c>.local</c>) and divide only in 32 bits.
    /// </summary>
    [Test]
    public void PairAttention_WorksFromSharedMemory()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        foreach (var (method, isExplicit) in Closed(typeof(float)))
        {
            if (method.DeclaringType!.Name != "AttentionPairKernels") continue;
            string ptx = PtxOf(backend, method, isExplicit: true);
            int sharedLoads = Regex.Matches(ptx, @"ld\.shared\.f32").Count, globalLoads = Regex.Matches(ptx, @"ld\.global\.f32").Count;
            int divisions64 = Regex.Matches(ptx, @"\b(div|rem)\.[su]64\b").Count;
            TestContext.Out.WriteLine($"{method.Name}: ld.shared.f32 {sharedLoads}, ld.global.f32 {globalLoads}, 64-bit div/rem {divisions64}");
            Assert.That(sharedLoads, Is.GreaterThanOrEqualTo(method.Name == "ForwardPair" ? 4 : 8), method.Name + ": reads from shared memory");
            Assert.That(ptx, Does.Not.Contain(".local"), method.Name + ": local memory");
            Assert.That(divisions64, Is.Zero, method.Name + ": 64-bit division");
        }
    }

    /// <summary>
    /// The serial passes over partial sums (split-k's, the split reductions', LayerNorm's dw/db) and the column sums load
    /// four values per loop trip before adding them in order: one global load in flight per thread was all a serial loop
    /// had, and these passes run few threads over up to hundreds of partials. (ILGPU writes each load next to its add;
    /// within the unrolled block ptxas is free to issue the four loads first.)
    /// </summary>
    [Test]
    public void SerialPasses_LoadFourValuesPerTrip()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        string[] unrolled = ["SumSplits", "ReduceBroadcastSplits", "ReduceColumns", "ReduceColumnsPartial", "ParameterGradientSplits"];
        var seen = new List<string>();
        foreach (var (method, isExplicit) in Closed(typeof(float)))
        {
            if (!unrolled.Contains(method.Name)) continue;
            string ptx = PtxOf(backend, method, isExplicit: false);
            int loads = Regex.Matches(ptx, @"ld\.global\.f32").Count;
            TestContext.Out.WriteLine($"{method.DeclaringType!.Name}.{method.Name}: {loads} ld.global.f32");
            Assert.That(loads, Is.GreaterThanOrEqualTo(5), method.Name + ": four loads per trip plus the tail's");
            seen.Add(method.Name);
        }
        Assert.That(seen, Is.EquivalentTo(unrolled));
    }

    /// <summary>
    /// No kernel loads, in straight-line code, from a global address it has just stored to. ILGPU 1.5.3 may emit a load
    /// after a later store to the same element: <c>count = offsets[c]; offsets[c] = running; running += count</c> came out
    /// as store-then-load in PTX and OpenCL alike, so the embedding sort doubled its offsets on every real GPU while the
    /// CPU emulator (which runs the .NET code) passed. This finds the pattern by the address arithmetic: an address
    /// <c>base + index·size</c> stored to and then loaded from with no label, branch or redefinition in between.
    /// </summary>
    [Test]
    public void NoKernel_LoadsFromAnAddressItJustStoredTo()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        var offenders = new List<string>();
        foreach (var (method, isExplicit) in Closed(typeof(float)))
        {
            string ptx = PtxOf(backend, method, isExplicit);
            foreach (string hazard in StoreThenLoad(ptx)) offenders.Add($"{method.DeclaringType!.Name}.{method.Name}: {hazard}");
        }
        Assert.That(offenders, Is.Empty, "loads after a store to the same address:\n" + string.Join("\n", offenders));
    }

    /// <summary>The store-then-load pairs of one kernel's PTX (see <see cref="NoKernel_LoadsFromAnAddressItJustStoredTo"/>).</summary>
    internal static IEnumerable<string> StoreThenLoad(string ptx)
    {
        var offsets = new Dictionary<string, string>();                        // %rdX → the index register of mul.wide %rdX, index, size
        var addresses = new Dictionary<string, (string Base, string Index)>(); // %rdY → (base, index) of add.u64 %rdY, base, %rdX
        var stored = new List<(string Base, string Index)>();
        foreach (string raw in ptx.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//")) continue;
            if (line.EndsWith(':') || line.Contains("bra") || line.StartsWith("bar.") || line.StartsWith("ret") || line.StartsWith('}'))
            {
                stored.Clear();
                continue;
            }
            var match = Regex.Match(line, @"^(@%p\d+\s+)?([a-z][\w.]*)\s+(.*?);");
            if (!match.Success) continue;
            string op = match.Groups[2].Value;
            string[] operands = match.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries);
            if (op.StartsWith("st.global"))
            {
                string at = operands[0].Trim('[', ']');
                if (addresses.TryGetValue(at, out var target)) stored.Add(target);
                continue;
            }
            if (op.StartsWith("ld.global"))
            {
                string at = operands[1].Trim('[', ']');
                if (addresses.TryGetValue(at, out var source) && stored.Contains(source)) yield return $"{line} after a store to {source.Base}[{source.Index}]";
            }
            if (operands.Length == 0 || !operands[0].StartsWith('%')) continue;
            string destination = operands[0];
            stored.RemoveAll(s => s.Base == destination || s.Index == destination);   // redefined: no longer the same address
            offsets.Remove(destination);
            addresses.Remove(destination);
            if (op.StartsWith("mul.wide") && operands.Length == 3) offsets[destination] = operands[1];
            else if (op == "add.u64" && operands.Length == 3 && offsets.TryGetValue(operands[2], out string? index)) addresses[destination] = (operands[1], index);
        }
    }

    /// <summary>
    /// A bias gradient's column sums (the split reduction's first pass runs over thousands of rows per thread)
    /// have no division at all inside their loop: at most the one div and one rem per thread that place it.
    /// </summary>
    [Test]
    public void BiasColumnSums_DivideOnlyToPlaceTheThread()
    {
        using var context = PtxContext();
        var backend = Ptx(context);
        foreach (var (method, isExplicit) in Closed(typeof(float)))
        {
            if (method.Name is not ("ReduceColumns" or "ReduceColumnsPartial")) continue;
            string ptx = PtxOf(backend, method, isExplicit: false);
            int divisions = Regex.Matches(ptx, @"\b(div|rem)\.[su](32|64)\b").Count;
            TestContext.Out.WriteLine($"{method.Name}: {divisions} integer div/rem");
            Assert.That(divisions, Is.LessThanOrEqualTo(method.Name == "ReduceColumns" ? 0 : 2), method.Name);
        }
    }

    /// <summary>A CUDA context for offline compilation (no device needed), as the kernels are built for a GPU.</summary>
    static Context PtxContext() => Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));

    /// <summary>ILGPU's PTX backend for SM 70 (Volta, the oldest architecture the kernels target), without NVVM.</summary>
    static PTXBackend Ptx(Context context) =>
        new(context, new CudaCapabilityContext(CudaArchitecture.SM_70), CudaArchitecture.SM_70, CudaInstructionSet.ISA_70, nvvmAPI: null);

    /// <summary>The PTX of one closed kernel method, explicitly or implicitly grouped.</summary>
    static string PtxOf(PTXBackend backend, MethodInfo method, bool isExplicit)
    {
        var entry = isExplicit ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        return ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
    }

    static void CompileAll(Backend backend, Type element)
    {
        var failures = new List<string>();
        var watch = Stopwatch.StartNew();
        foreach (var (method, isExplicit) in Closed(element))
        {
            var entry = isExplicit ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
            try
            {
                backend.Compile(entry, KernelSpecialization.Empty);
            }
            catch (Exception e)
            {
                failures.Add($"{method.DeclaringType!.Name}.{method.Name}: {e.GetBaseException().Message}");
            }
        }
        TestContext.Out.WriteLine($"{backend.GetType().Name} {element.Name}: {watch.ElapsedMilliseconds} ms");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }
}
