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
/// Forge's ILGPU tiled GEMM (<see cref="IlgpuGemm"/>) against cuBLAS (through ILGPU.Algorithms'
/// bindings) on a CUDA GPU, float32, C = A·B with N×N row-major operands, the same buffers and stream;
/// each call waits for the device, so the time is the kernel's. cuBLAS is the baseline (Ratio = Forge's
/// time / cuBLAS's). Left out with a message when there is no CUDA device. Run:
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*GpuGemm*'</c>
/// </summary>
[Config(typeof(GpuGemmConfig))]
public class GpuGemmBenchmarks
{
    IlgpuBackend _gpu = null!;
    CuBlas _blas = null!;
    MemoryBuffer1D<float, Stride1D.Dense> _a = null!, _b = null!, _c = null!;

    [Params(1024, 2048, 4096)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gpu = IlgpuBackend.Create(IlgpuDeviceKind.Cuda);
        _blas = new CuBlas((CudaAccelerator)_gpu.Accelerator) { PointerMode = CuBlasPointerMode.Host };
        var random = new Random(42);
        var host = new float[N * N];
        for (int i = 0; i < host.Length; i++) host[i] = random.NextSingle() - 0.5f;
        _a = _gpu.Upload<float>(host);
        for (int i = 0; i < host.Length; i++) host[i] = random.NextSingle() - 0.5f;
        _b = _gpu.Upload<float>(host);
        _c = _gpu.Accelerator.Allocate1D<float>((long)N * N);
        CheckAgreement();
    }

    /// <summary>Both must compute the same product before their times mean anything.</summary>
    void CheckAgreement()
    {
        Forge();
        var forge = _c.GetAsArray1D();
        CuBlasGemm();
        var blas = _c.GetAsArray1D();
        for (int i = 0; i < forge.Length; i += 997)
            if (MathF.Abs(forge[i] - blas[i]) > 1e-3f * (1 + MathF.Abs(blas[i])))
                throw new InvalidOperationException($"Forge's GEMM and cuBLAS disagree at {i}: {forge[i]} vs {blas[i]}");
    }

    [Benchmark]
    public void Forge()
    {
        IlgpuGemm.Run(_gpu, false, false, N, N, N, 1f, _a.View, N, _b.View, N, 0f, _c.View, N);
        _gpu.Synchronize();
    }

    // cuBLAS is column-major: a row-major C = A·B is the column-major Cᵀ = Bᵀ·Aᵀ, i.e. the same call with A and B swapped.
    [Benchmark(Baseline = true)]
    public void CuBlasGemm()
    {
        _blas.Gemm(CuBlasOperation.NonTranspose, CuBlasOperation.NonTranspose, N, N, N, 1f, _b.View, N, _a.View, N, 0f, _c.View, N);
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

/// <summary>Short job, median and GFLOP/s (2·N³ / median); no CUDA device = no cases, and a line saying so.</summary>
public class GpuGemmConfig : ManualConfig
{
    public GpuGemmConfig()
    {
        // In-process: the time is the GPU's, so a separate benchmark process buys nothing, and GPU machines
        // get a self-contained Forge.Bench without the .NET SDK that out-of-process runs need to build.
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short"));
        AddColumn(StatisticColumn.Median);
        AddColumn(RateColumn.Gflops(c => 2.0 * Math.Pow((int)c.Parameters["N"], 3)));
        if (!IlgpuDevices.Has(IlgpuDeviceKind.Cuda))
        {
            Console.WriteLine("// no CUDA device: the GPU GEMM benchmarks are skipped.");
            AddFilter(new SimpleFilter(_ => false));
        }
    }
}
