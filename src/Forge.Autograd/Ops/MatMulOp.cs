using System.Numerics;
using Forge.Kernels;
using static Forge.Autograd.Ops.OpBuffers;

namespace Forge.Autograd.Ops;

/// <summary>
/// C = A·B. Two forms, the two a transformer needs:
/// <list type="bullet">
/// <item>A [..., m, k] · W [k, n] — activations times a weight: the leading axes fold into the rows of
/// one GEMM (A is made contiguous if needed).</item>
/// <item>A [b…, m, k] · B [b…, k, n] with the same batch axes — one GEMM per batch entry (attention
/// scores and mixing).</item>
/// </list>
/// Transposed views (e.g. <c>k.Transpose(-1, -2)</c>) are passed to GEMM as transposed operands, not
/// copied. Backward: dA += dC·Bᵀ and dB += Aᵀ·dC, with β = 1 so GEMM accumulates in place — or β = 0 when
/// it is the first contribution to an intermediate's gradient in this pass (<see cref="GradientState"/>);
/// for a weight the two go to the backend together (<c>LinearBackward</c>), which can do both in one pass.
/// </summary>
internal sealed class MatMulOp<T> : Op<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    readonly MatrixLayout _a, _b;
    readonly int _m, _n, _k, _batch;
    readonly Tensor<T>? _neededRows;   // Linear only: rows whose entry is 0 are not read (the CPU skips them)

    MatMulOp(Var<T>[] inputs, MatrixLayout la, MatrixLayout lb, int m, int n, int k, int batch, Tensor<T>? neededRows = null)
        : base(inputs.Length == 3 ? "Linear" : "MatMul", inputs)
    {
        (_a, _b, _m, _n, _k, _batch, _neededRows) = (la, lb, m, n, k, batch, neededRows);
    }

    bool HasBias => Inputs.Length == 3;

    public static Var<T> Apply(Var<T> a, Var<T> b)
    {
        if (a.Rank < 2 || b.Rank < 2) throw new ShapeException("MatMul", "operands need at least 2 axes", a.Shape, b.Shape);
        if (a.Size(-1) != b.Size(-2)) throw new ShapeException("MatMul", "inner dimensions differ", a.Shape, b.Shape);
        return b.Rank == 2 ? ApplyToWeight(a, b, null) : ApplyBatched(a, b);
    }

    /// <summary>x [..., k] · W [k, n] + bias [n] in one op: the GEMM adds the bias as it stores C (no pass of its own).</summary>
    public static Var<T> Linear(Var<T> x, Var<T> w, Var<T> bias, Tensor<T>? neededRows = null)
    {
        if (x.Rank < 2 || w.Rank != 2 || x.Size(-1) != w.Size(0)) throw new ShapeException("Linear", "needs x [..., k] and W [k, n]", x.Shape, w.Shape);
        if (bias.Rank != 1 || bias.Size(0) != w.Size(1)) throw new ShapeException("Linear", "bias must be [n] for W [k, n]", w.Shape, bias.Shape);
        NeededRows.Check("Linear", x, neededRows);
        return ApplyToWeight(x, w, ContiguousOp<T>.Ensure(bias), neededRows);
    }

    static Var<T> ApplyToWeight(Var<T> a, Var<T> w, Var<T>? bias, Tensor<T>? neededRows = null)
    {
        a = ContiguousOp<T>.Ensure(a);
        w = EnsureMatrix(w);
        int k = a.Size(-1), n = w.Size(1), m = a.Data.Length / Math.Max(k, 1);
        var la = new MatrixLayout(false, Math.Max(k, 1), 0, 1);
        int[] shape = [.. a.Shape[..^1], n];
        Var<T>[] inputs = bias is null ? [a, w] : [a, w, bias];
        return new MatMulOp<T>(inputs, la, MatrixLayout.Of(w.Data)!.Value, m, n, k, 1, neededRows).Run(shape);
    }

    static Var<T> ApplyBatched(Var<T> a, Var<T> b)
    {
        if (!Forge.Shape.SameShape(a.ShapeSpan[..^2], b.ShapeSpan[..^2]))
            throw new ShapeException("MatMul", "batch axes differ (batched MatMul needs equal batch shapes or a 2-D right operand)", a.Shape, b.Shape);
        a = EnsureMatrix(a);
        b = EnsureMatrix(b);
        var la = MatrixLayout.Of(a.Data)!.Value;
        var lb = MatrixLayout.Of(b.Data)!.Value;
        int m = a.Size(-2), k = a.Size(-1), n = b.Size(-1);
        int batch = Forge.Shape.Count(a.ShapeSpan[..^2]);
        // Batch axes of size 1 collapse to batch 1 in the layout; GEMM always sees the full count.
        la = la with { Batch = batch };
        lb = lb with { Batch = batch };
        int[] shape = [.. a.Shape[..^1], n];
        return new MatMulOp<T>([a, b], la, lb, m, n, k, batch).Run(shape);
    }

    static Var<T> EnsureMatrix(Var<T> x) => MatrixLayout.Of(x.Data) is null ? ContiguousOp<T>.Ensure(x) : x;

    Var<T> A => Inputs[0];
    Var<T> B => Inputs[1];

    // C (batch, m, n) = A (batch, m, k) · B (batch, k, n)  [+ bias (n) on every row]
    public override void Forward()
    {
        if (HasBias && _neededRows is not null)
            Backend.LinearForwardOnRows(_m, _n, _k, A.Data, B.Data, _b.Transposed, _b.LeadingDimension, Inputs[2].Data, Output.Data, _neededRows);
        else if (HasBias)
            Backend.GemmWithBias(_a.Transposed, _b.Transposed, _m, _n, _k, T.One,
                A.Data, _a.LeadingDimension, B.Data, _b.LeadingDimension, Inputs[2].Data, Output.Data, _n);
        else
            Backend.Gemm(_a.Transposed, _b.Transposed, _m, _n, _k, T.One,
                A.Data, _a.LeadingDimension, _a.BatchStride, B.Data, _b.LeadingDimension, _b.BatchStride,
                T.Zero, Output.Data, _n, (long)_m * _n, _batch);
    }

    public override void Backward()
    {
        var dC = Output.Grad;
        if (B.Rank == 2)
        {
            // A weight: dA (M, k) += dC · Wᵀ and dW (k, n) += Aᵀ · dC over all M rows — one call, which the
            // CPU backend runs as one pass over the rows of dC (Gemm.LinearBackward). dA's flag is asked
            // first: it is written first.
            bool needA = NeedsGrad(0), needW = NeedsGrad(1);
            T betaA = needA ? GradBeta(0) : T.Zero, betaW = needW ? GradBeta(1) : T.Zero;
            if (needA || needW)
                Backend.LinearBackward(_m, _k, _n, dC, A.Data, B.Data, _b.Transposed, _b.LeadingDimension,
                    needA ? A.Grad : null, betaA, needW ? B.Grad : null, betaW);
        }
        else
        {
            // dA (batch, m, k) += dC (batch, m, n) · Bᵀ (batch, n, k)
            if (NeedsGrad(0))
                Backend.Gemm(false, !_b.Transposed, _m, _k, _n, T.One,
                    dC, _n, (long)_m * _n, B.Data, _b.LeadingDimension, _b.BatchStride,
                    GradBeta(0), A.Grad, _k, (long)_m * _k, _batch);
            if (NeedsGrad(1)) AccumulateB(dC);
        }
        // bias (n) was added to every row: dbias += Σ_rows dC
        if (HasBias && NeedsGrad(2)) Backend.ReduceBroadcast([_m, _n], dC, Inputs[2].ShapeSpan, GradToAccumulate(2));
    }

    void AccumulateB(Tensor<T> dC)
    {
        // dB (batch, k, n) += Aᵀ (batch, k, m) · dC (batch, m, n)
        Backend.Gemm(!_a.Transposed, false, _k, _n, _m, T.One,
            A.Data, _a.LeadingDimension, _a.BatchStride, dC, _n, (long)_m * _n,
            GradBeta(1), B.Grad, _n, (long)_k * _n, _batch);
    }
}
