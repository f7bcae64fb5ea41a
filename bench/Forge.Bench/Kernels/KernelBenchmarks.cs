using BenchmarkDotNet.Attributes;
using Forge.Kernels;
using Forge.Kernels.Threading;

namespace Forge.Bench.Kernels;

/// <summary>
/// The non-GEMM kernels of a training step at the sorting model's shapes (batch 512 × 21 tokens,
/// d_model 96, 2 heads of 48, vocabulary 52; GELU at an MLP's 4·d_model; Adam over 1 M parameters):
/// the scalar reference (the baseline: Ratio = SIMD time / scalar time) against the SIMD kernel, on
/// one and two threads (the reference always runs on one). GB/s counts the compulsory traffic —
/// every input read once, every output written once; GFLOP/s is given for attention. Run:
/// <c>dotnet run -c Release --project bench/Forge.Bench -- --filter '*KernelBenchmarks*'</c>
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class KernelBenchmarks
{
    public enum Kernel { SoftmaxCausal, LayerNormForward, LayerNormBackward, GeluForward, AttentionForward, AttentionBackward, CrossEntropyForward, CrossEntropyBackward, Adam }

    // The sorting model's step: rows = batch·t tokens.
    const int Batch = 512, T = 21, Heads = 2, DHead = 48, DModel = 96, Vocab = 52, Rows = Batch * T, DMlp = 4 * DModel, AdamParams = 1 << 20;

    [Params(Kernel.SoftmaxCausal, Kernel.LayerNormForward, Kernel.LayerNormBackward, Kernel.GeluForward, Kernel.AttentionForward,
        Kernel.AttentionBackward, Kernel.CrossEntropyForward, Kernel.CrossEntropyBackward, Kernel.Adam)]
    public Kernel Case { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    // Buffers, sized for the case in Setup: a, b, c inputs; y, y2, y3 outputs; per-row statistics.
    float[] _a = [], _b = [], _c = [], _d = [], _y = [], _y2 = [], _y3 = [], _w = [], _bias = [], _mean = [], _rstd = [];
    int[] _targets = [];

    [GlobalSetup]
    public void Setup()
    {
        ForkJoin.Threads = Threads;
        var random = new Random(42);
        float[] R(int n) { var x = new float[n]; for (int i = 0; i < n; i++) x[i] = random.NextSingle() - 0.5f; return x; }
        switch (Case)
        {
            case Kernel.SoftmaxCausal:
                (_a, _b, _y) = (R(Batch * Heads * T * T), R(Batch * Heads * T * T), new float[Batch * Heads * T * T]);
                Softmax.ForwardCausal<float>(_a, _b, Batch * Heads, T);   // _b = a valid pattern for the backward
                break;
            case Kernel.LayerNormForward or Kernel.LayerNormBackward:
                (_a, _b, _w, _bias, _y, _y2, _y3) = (R(Rows * DModel), R(Rows * DModel), R(DModel), R(DModel), new float[Rows * DModel], new float[DModel], new float[DModel]);
                (_mean, _rstd) = (new float[Rows], new float[Rows]);
                LayerNorm.Forward<float>(_a, _w, _bias, _y, _mean, _rstd, Rows, DModel, 1e-5f);
                break;
            case Kernel.GeluForward:
                (_a, _y) = (R(Rows * DMlp), new float[Rows * DMlp]);
                break;
            case Kernel.AttentionForward or Kernel.AttentionBackward:
                int rows = Batch * T * Heads * DHead, squares = Batch * Heads * T * T;
                (_a, _b, _c, _d) = (R(rows), R(rows), R(rows), R(rows));
                (_y, _y2, _y3, _w, _bias, _mean) = (new float[squares], new float[squares], new float[rows], new float[squares], new float[rows], new float[rows]);
                _rstd = new float[rows];
                Attention.Forward<float>(_a, _b, _c, _y, _y2, _y3, Batch, T, Heads, DHead, Scale);
                break;
            case Kernel.CrossEntropyForward or Kernel.CrossEntropyBackward:
                (_a, _y, _y2, _w) = (R(Rows * Vocab), new float[Rows * Vocab], new float[Rows], new float[Rows]);
                Array.Fill(_w, 1f);   // mask: every token counts
                _targets = new int[Rows];
                for (int i = 0; i < Rows; i++) _targets[i] = random.Next(Vocab);
                CrossEntropy.Forward<float>(_a, _targets, _w, _y, _y2, Rows, Vocab);
                _b = new float[Rows * Vocab];
                break;
            case Kernel.Adam:
                (_a, _b, _c, _d) = (R(AdamParams), R(AdamParams), new float[AdamParams], new float[AdamParams]);
                break;
        }
    }

    static readonly float Scale = 1f / MathF.Sqrt(DHead);

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        switch (Case)
        {
            case Kernel.SoftmaxCausal: SoftmaxReference.BackwardCausal<float>(_b, _a, _y, Batch * Heads, T); SoftmaxReference.ForwardCausal<float>(_a, _y, Batch * Heads, T); break;
            case Kernel.LayerNormForward: LayerNormReference.Forward<float>(_a, _w, _bias, _y, _mean, _rstd, Rows, DModel, 1e-5f); break;
            case Kernel.LayerNormBackward: LayerNormReference.Backward<float>(_b, _a, _w, _mean, _rstd, _y, _y2, _y3, Rows, DModel); break;
            case Kernel.GeluForward: GeluReference.Forward<float>(_a, _y); break;
            case Kernel.AttentionForward: AttentionReference.Forward<float>(_a, _b, _c, _y, _y2, _y3, Batch, T, Heads, DHead, Scale); break;
            case Kernel.AttentionBackward: AttentionReference.Backward<float>(_d, _a, _b, _c, _y2, _w, _y, _bias, _mean, _rstd, Batch, T, Heads, DHead, Scale); break;
            case Kernel.CrossEntropyForward: CrossEntropyReference.Forward<float>(_a, _targets, _w, _y, _y2, Rows, Vocab); break;
            case Kernel.CrossEntropyBackward: CrossEntropyReference.Backward<float>(_y, _targets, _w, 1f, _b, Rows, Vocab); break;
            case Kernel.Adam: OptimizersReference.Adam(_a, _b, _c, _d, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.005f, 10); break;
        }
    }

    [Benchmark]
    public void Simd()
    {
        switch (Case)
        {
            case Kernel.SoftmaxCausal: Softmax.BackwardCausal<float>(_b, _a, _y, Batch * Heads, T); Softmax.ForwardCausal<float>(_a, _y, Batch * Heads, T); break;
            case Kernel.LayerNormForward: LayerNorm.Forward<float>(_a, _w, _bias, _y, _mean, _rstd, Rows, DModel, 1e-5f); break;
            case Kernel.LayerNormBackward: LayerNorm.Backward<float>(_b, _a, _w, _mean, _rstd, _y, _y2, _y3, Rows, DModel); break;
            case Kernel.GeluForward: Gelu.Forward<float>(_a, _y); break;
            case Kernel.AttentionForward: Attention.Forward<float>(_a, _b, _c, _y, _y2, _y3, Batch, T, Heads, DHead, Scale); break;
            case Kernel.AttentionBackward: Attention.Backward<float>(_d, _a, _b, _c, _y2, _w, _y, _bias, _mean, _rstd, Batch, T, Heads, DHead, Scale); break;
            case Kernel.CrossEntropyForward: CrossEntropy.Forward<float>(_a, _targets, _w, _y, _y2, Rows, Vocab); break;
            case Kernel.CrossEntropyBackward: CrossEntropy.Backward<float>(_y, _targets, _w, 1f, _b, Rows, Vocab); break;
            case Kernel.Adam: Optimizers.Adam(_a, _b, _c, _d, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.005f, 10); break;
        }
    }

    /// <summary>Compulsory bytes of one call (float32 = 4 bytes; targets are int32).</summary>
    public static double Bytes(Kernel kernel)
    {
        const double F = 4;
        double tokens = Rows, squares = (double)Batch * Heads * T * T, qkv = (double)Rows * Heads * DHead;
        return kernel switch
        {
            Kernel.SoftmaxCausal => F * squares * 4,                       // backward: y, dy in, dx out; forward: x in, y out (dy buffer reused)
            Kernel.LayerNormForward => F * (2 * tokens * DModel + 2 * tokens),   // x in, y out, mean/rstd out
            Kernel.LayerNormBackward => F * (3 * tokens * DModel + 2 * tokens),  // dy, x in, dx out, statistics in
            Kernel.GeluForward => F * 2 * tokens * DMlp,
            Kernel.AttentionForward => F * (4 * qkv + 2 * squares),        // q, k, v in; z, scores, pattern out
            Kernel.AttentionBackward => F * (7 * qkv + 3 * squares),       // dz, q, k, v in, dq, dk, dv out; pattern in, 2 scratch out
            Kernel.CrossEntropyForward => F * (2 * tokens * Vocab + 2 * tokens) + 4 * tokens,
            Kernel.CrossEntropyBackward => F * (2 * tokens * Vocab + tokens) + 4 * tokens,
            Kernel.Adam => F * 7 * AdamParams,                             // param, grad, m, v in; param, m, v out
            _ => 0,
        };
    }

    /// <summary>Flops of the attention kernels on the causal triangle (others: 0, the GB/s column is their measure).</summary>
    public static double Flops(Kernel kernel)
    {
        double pairs = (double)Batch * Heads, triangle = T * (T + 1) / 2.0;
        return kernel switch
        {
            Kernel.AttentionForward => pairs * triangle * DHead * 2 * 2,    // q·kᵀ and pattern·v on the triangle
            Kernel.AttentionBackward => pairs * triangle * DHead * 2 * 4,   // dz·vᵀ, patternᵀ·dz, dS·k, dSᵀ·q
            _ => 0,
        };
    }
}
