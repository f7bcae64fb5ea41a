using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Forge.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Forge.Bench.Gpu;

/// <summary>
/// Forge's ILGPU GEMMs — the tiled kernel (the default) and the wide one (opt-in, <see cref="IlgpuBackend.WideGemm"/>) —
/// against cuBLAS (through ILGPU.Algorithms' bindings) on a CUDA GPU, float32, row-major, the same buffers and stream;
/// each call waits for the device, so the time is the kernel's. cuBLAS is the baseline (Ratio = Forge's time /
/// cuBLAS's). Every kernel's product is checked against cuBLAS's first. Left out with a message when there is no
/// CUDA device.
/// </summary>
public abstract class GpuGemmBenchmarkBase
{
    IlgpuBackend _gpu = null!;
    CuBlas _blas = null!;
    MemoryBuffer1D<float, Stride1D.Dense> _a = null!, _b = null!, _c = null!;
    int _m, _n, _k;
    bool _transA, _transB;
    string _name = "";

    /// <summary>Allocates random operands for C (m, n) = op(A)·op(B) and checks every Forge kernel against cuBLAS.</summary>
    protected void Prepare(string name, int m, int n, int k, bool transA, bool transB)
    {
        (_name, _m, _n, _k, _transA, _transB) = (name, m, n, k, transA, transB);
        _gpu = IlgpuBackend.Create(IlgpuDeviceKind.Cuda);
        _blas = new CuBlas((CudaAccelerator)_gpu.Accelerator) { PointerMode = CuBlasPointerMode.Host };
        var random = new Random(42);
        float[] Random(long length) { var host = new float[length]; for (long i = 0; i < length; i++) host[i] = random.NextSingle() - 0.5f; return host; }
        _a = _gpu.Upload<float>(Random((long)m * k));
        _b = _gpu.Upload<float>(Random((long)k * n));
        _c = _gpu.Accelerator.Allocate1D<float>((long)m * n);
        CuBlasGemm();
        var blas = _c.GetAsArray1D();
        foreach (var (kernel, run) in new (string, Action)[] { ("tiled", Forge), ("wide", ForgeWide) })
        {
            run();
            var forge = _c.GetAsArray1D();
            for (int i = 0; i < forge.Length; i += 997)
                if (MathF.Abs(forge[i] - blas[i]) > 1e-3f * (1 + MathF.Abs(blas[i])))
                    throw new InvalidOperationException($"{_name}: Forge's {kernel} GEMM and cuBLAS disagree at {i}: {forge[i]} vs {blas[i]}");
        }
    }

    int Lda => _transA ? _m : _k;
    int Ldb => _transB ? _k : _n;

    /// <summary>The tiled kernel (<c>GemmKernels.Tiled</c>, today's default).</summary>
    [Benchmark]
    public void Forge()
    {
        IlgpuGemm.Run(_gpu, _transA, _transB, _m, _n, _k, 1f, _a.View, Lda, _b.View, Ldb, 0f, _c.View, _n);
        _gpu.Synchronize();
    }

    /// <summary>The wide kernel (<c>GemmWideKernels.Tiled</c>: 128 × 128 tiles, 8 × 8 per thread, vector shared loads; opt-in).</summary>
    [Benchmark]
    public void ForgeWide()
    {
        _gpu.WideGemm = true;
        try { Forge(); }
        finally { _gpu.WideGemm = false; }
    }

    // cuBLAS is column-major: row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, the same call with A and B
    // swapped, each keeping its op.
    [Benchmark(Baseline = true)]
    public void CuBlasGemm()
    {
        _blas.Gemm(_transB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose, _transA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
            _n, _m, _k, 1f, _b.View, Ldb, _a.View, Lda, 0f, _c.View, _n);
        _gpu.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
        _blas.Dispose();
        _gpu.Dispose();
    }
}

/// <summary>
/// Square products, C = A·B with N×N operands.
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*GpuGemmBenchmarks*'</c>
/// </summary>
[Config(typeof(GpuGemmConfig))]
public class GpuGemmBenchmarks : GpuGemmBenchmarkBase
{
    [Params(1024, 2048, 4096)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup() => Prepare($"{N}²", N, N, N, false, false);
}

/// <summary>
/// The products the four models' training steps run (issue 17: "on the models' own shapes"): a Linear forward
/// (tokens × outputs × inputs, A·Bᵀ with the weight stored (outputs, inputs)) and its weight gradient (Xᵀ·dY, A
/// transposed, k = tokens). Shape = "m×n×k/ops"; GFLOP/s = 2·m·n·k / median.
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*GpuGemmShape*'</c>
/// </summary>
[Config(typeof(GpuGemmShapeConfig))]
public class GpuGemmShapeBenchmarks : GpuGemmBenchmarkBase
{
    /// <summary>Sorting (10,752 tokens, d 96), retrieval (1,408 tokens, d 64), LM (2,048 tokens, d 128, MLP 512, vocabulary 2,049).</summary>
    [Params("10752x96x96/NT", "96x96x10752/TN", "1408x64x64/NT", "64x64x1408/TN", "2048x512x128/NT", "2048x128x512/NT",
        "2048x2049x128/NT", "128x2049x2048/TN")]
    public string Shape { get; set; } = "";

    /// <summary>(m, n, k, transA, transB) of a shape name.</summary>
    public static (int M, int N, int K, bool TransA, bool TransB) Parse(string shape)
    {
        var parts = shape.Split('/');
        var dims = parts[0].Split('x').Select(int.Parse).ToArray();
        return (dims[0], dims[1], dims[2], parts[1][0] == 'T', parts[1][1] == 'T');
    }

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k, transA, transB) = Parse(Shape);
        Prepare(Shape, m, n, k, transA, transB);
    }
}

/// <summary><see cref="GpuGemmConfig"/> with GFLOP/s from the shape's m·n·k.</summary>
public class GpuGemmShapeConfig : GpuGemmConfig
{
    public GpuGemmShapeConfig() : base(c =>
    {
        var (m, n, k, _, _) = GpuGemmShapeBenchmarks.Parse((string)c.Parameters["Shape"]);
        return 2.0 * m * n * k;
    })
    { }
}

/// <summary>Short job, median and GFLOP/s (2·N³ / median); no CUDA device = no cases, and a line saying so.</summary>
public class GpuGemmConfig : ManualConfig
{
    public GpuGemmConfig() : this(c => 2.0 * Math.Pow((int)c.Parameters["N"], 3)) { }

    protected GpuGemmConfig(Func<BenchmarkDotNet.Running.BenchmarkCase, double> flops)
    {
        // In-process: the time is the GPU's, so a separate benchmark process buys nothing, and GPU machines
        // get a self-contained Forge.Bench without the .NET SDK that out-of-process runs need to build.
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short"));
        AddColumn(StatisticColumn.Median);
        AddColumn(RateColumn.Gflops(flops));
        if (!IlgpuDevices.Has(IlgpuDeviceKind.Cuda))
        {
            Console.WriteLine("// no CUDA device: the GPU GEMM benchmarks are skipped.");
            AddFilter(new SimpleFilter(_ => false));
        }
    }
}
