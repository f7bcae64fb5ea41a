using System.CommandLine;
using System.Numerics;
using Forge.Experiments.Cli;
using Forge.Kernels;

namespace Forge.Experiments.Explain;

/// <summary>The LayerNorm example's sizes and seed; the defaults give the example in docs/attention-backward.md.</summary>
public sealed record LayerNormExample(int Positions = 2, int DModel = 4, ulong Seed = ExplainCommand.DefaultSeed);

/// <summary>
/// <c>explain layernorm</c>: LayerNorm over d_model on a tiny random example, forward then backward, each
/// step computed by <see cref="LayerNormReference"/> and each gradient beside its float64 finite difference.
/// </summary>
public static class LayerNormWalkthrough
{
    const double Eps = 1e-5;

    public static Command Command()
    {
        var defaults = new LayerNormExample();
        var positions = OptionFactory.Int("--positions", "Rows to normalise.", defaults.Positions, min: 1, max: 12);
        var dModel = OptionFactory.Int("--d-model", "Length of each row.", defaults.DModel, min: 2, max: 12);
        return ExplainCommand.Topic("layernorm",
            "LayerNorm: forward, then each backward step beside its finite difference.",
            [positions, dModel],
            (parse, seed, float64) =>
            {
                var example = new LayerNormExample(parse.GetValue(positions), parse.GetValue(dModel), seed);
                return float64 ? Run<double>(example) : Run<float>(example);
            });
    }

    /// <summary>Runs the example with the engine in precision <typeparamref name="T"/> (finite differences are always float64).</summary>
    public static Walkthrough Run<T>(LayerNormExample example) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = Passes.Compute<T>(example);
        var walkthrough = new Walkthrough(ExplainCommand.Tolerance<T>());
        var s = walkthrough.Section("explain layernorm: LayerNorm over d_model, forward then backward");
        s.Line($"{p.N} positions, d_model {p.D}, seed {example.Seed}, {ExplainCommand.TypeName<T>()}, eps = {Numbers.Power(Eps)}");
        walkthrough.Add(s);

        s = walkthrough.Section("inputs: random, one decimal each");
        s.Blocks(new Block("x [position, d_model]", p.X, p.N, p.D, 1), new Block("dY [position, d_model]", p.DY, p.N, p.D, 1));
        s.Blocks(Block.Vector("w [d_model]", p.W, 1), Block.Vector("b [d_model]", p.B, 1));
        s.Line("dY stands in for the layers above: the loss is L = Σ y ⊙ dY, so ∂L/∂y = dY");
        walkthrough.Add(s);
        Forward(walkthrough, p);
        Backward(walkthrough, p);
        return walkthrough;
    }

    /// <summary>The two forward sections; "by hand" takes row 0, entry 0.</summary>
    static void Forward(Walkthrough walkthrough, Passes p)
    {
        int d = p.D;
        var row = p.X.AsSpan(0, d).ToArray();
        var deviations = row.Select(x => x - p.Mean[0]).ToArray();
        double variance = deviations.Sum(deviation => deviation * deviation) / d;   // printed for hand-checking only
        var s = walkthrough.Section("forward 1 · per row: mean = Σ_i x[i] / d,  rstd = 1/√(Σ_i (x[i] − mean)² / d + eps)");
        s.Line("x̂[i] = (x[i] − mean) · rstd");
        s.Line("LayerNormReference.RowStatistics, LayerNormReference.Normalize");
        s.Blocks(Block.Vector("mean [position]", p.Mean), Block.Vector("rstd [position]", p.Rstd));
        s.Blocks(new Block("x̂ [position, d_model]", p.Xhat, p.N, d));
        s.Line($"by hand, row 0: mean = ({string.Join(" + ", row.Select(ByHand.Term))}) / {d} = {ByHand.Short(p.Mean[0])}");
        s.Line($"by hand, row 0: var = ({string.Join(" + ", deviations.Select(x => ByHand.Term(x) + "²"))}) / {d} = {ByHand.Short(variance)}," +
               $" rstd = 1/√({ByHand.Short(variance)} + eps) = {ByHand.Short(p.Rstd[0])}");
        s.Line($"by hand: x̂[0, 0] = ({ByHand.Short(p.X[0])} − {ByHand.Term(p.Mean[0])}) · {ByHand.Short(p.Rstd[0])} = {ByHand.Short(p.Xhat[0])}");
        walkthrough.Add(s);

        s = walkthrough.Section("forward 2 · y[i] = x̂[i] · w[i] + b[i]");
        s.Line("LayerNormReference.ScaleAndShift");
        s.Blocks(new Block("y [position, d_model]", p.Y, p.N, d));
        s.Line($"by hand: y[0, 0] = {ByHand.Term(p.Xhat[0])} · {ByHand.Term(p.W[0])} + {ByHand.Term(p.B[0])} = {ByHand.Short(p.Y[0])}");
        s.Line($"L = Σ y ⊙ dY = {Numbers.Format(FiniteDifferences.Dot(p.Y, p.DY))}");
        walkthrough.Add(s);
    }

    /// <summary>The two backward sections, each gradient beside the finite difference of the loss of that buffer.</summary>
    static void Backward(Walkthrough walkthrough, Passes p)
    {
        int n = p.N, d = p.D;
        var s = walkthrough.Section("backward 2 · forward: y[i] = x̂[i] · w[i] + b[i]");
        s.Line("dx̂[i] = dY[i] · w[i],  dw[i] = Σ_rows dY[i] · x̂[i],  db[i] = Σ_rows dY[i]");
        s.Line("LayerNormReference.ScaleAndShiftBackward");
        walkthrough.Gradient(s, "dx̂", "[position, d_model]", p.DXhat, FiniteDifferences.Gradient(xhat => p.LossFromAffine(xhat, p.W, p.B), p.XhatFloat64), n, d);
        walkthrough.Gradient(s, "dw", "[d_model]", p.DW, FiniteDifferences.Gradient(w => p.LossFromAffine(p.XhatFloat64, w, p.B), p.W), 1, d);
        walkthrough.Gradient(s, "db", "[d_model]", p.DB, FiniteDifferences.Gradient(b => p.LossFromAffine(p.XhatFloat64, p.W, b), p.B), 1, d);
        s.Line($"by hand: dx̂[0, 0] = {ByHand.Term(p.DY[0])} · {ByHand.Term(p.W[0])} = {ByHand.Short(p.DXhat[0])}");
        s.Line(ByHand.Sum("dw[0]", Enumerable.Range(0, n).Select(r => (p.DY[r * d], p.Xhat[r * d])), p.DW[0]));
        walkthrough.Verdict(s, "dx̂", "dw", "db");
        walkthrough.Add(s);

        s = walkthrough.Section("backward 1 · forward: x̂[i] = (x[i] − mean) · rstd, where mean and rstd depend on the whole row");
        s.Line("dx[i] = rstd · (dx̂[i] − mean(dx̂) − x̂[i] · mean(dx̂ ⊙ x̂))");
        s.Line("LayerNormReference.NormalizeBackward");
        s.Blocks(Block.Vector("mean(dx̂) [position]", p.MeanDXhat), Block.Vector("mean(dx̂ ⊙ x̂) [position]", p.MeanDXhatXhat));
        walkthrough.Gradient(s, "dx", "[position, d_model]", p.DX, FiniteDifferences.Gradient(p.LossFromX, p.X), n, d);
        s.Line($"by hand: dx[0, 0] = {ByHand.Short(p.Rstd[0])} · ({ByHand.Short(p.DXhat[0])} − {ByHand.Term(p.MeanDXhat[0])}" +
               $" − {ByHand.Term(p.Xhat[0])} · {ByHand.Term(p.MeanDXhatXhat[0])}) = {ByHand.Short(p.DX[0])}");
        walkthrough.Verdict(s, "dx");
        walkthrough.Add(s);
    }

    /// <summary>
    /// Every buffer after the engine's passes in precision T, as float64 ([position, d_model] unless noted),
    /// and the losses the finite differences nudge, run through the same reference code in float64.
    /// </summary>
    sealed class Passes
    {
        public required int N, D;
        public required double[] X, W, B, DY;                       // inputs; w, b [d_model]
        public required double[] Mean, Rstd, Xhat, Y;               // forward; mean, rstd [position]
        public required double[] DXhat, DW, DB, DX, MeanDXhat, MeanDXhatXhat;   // backward; dw, db [d_model]; the means [position]
        public required double[] XhatFloat64;                       // x̂ from the float64 forward: where L(x̂) is nudged

        public static Passes Compute<T>(LayerNormExample example) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = example.Positions, d = example.DModel;
            var rng = new Rng(example.Seed);
            T[] x = Numbers.From<T>(Numbers.Draw(rng, n * d, 2));
            T[] w = Numbers.From<T>(Numbers.Draw(rng, d, 0.5).Select(value => 1 + value).ToArray());   // a scale near 1
            T[] b = Numbers.From<T>(Numbers.Draw(rng, d, 0.5));
            T[] dy = Numbers.From<T>(Numbers.Draw(rng, n * d, 1));
            T eps = T.CreateChecked(Eps);

            // Forward, row by row: the two steps of LayerNormReference.Forward.
            T[] mean = new T[n], rstd = new T[n], xhat = new T[n * d], y = new T[n * d];
            for (int r = 0; r < n; r++)
            {
                (mean[r], rstd[r]) = LayerNormReference.RowStatistics<T>(x.AsSpan(r * d, d), eps);
                LayerNormReference.Normalize<T>(x.AsSpan(r * d, d), mean[r], rstd[r], xhat.AsSpan(r * d, d));
                LayerNormReference.ScaleAndShift<T>(xhat.AsSpan(r * d, d), w, b, y.AsSpan(r * d, d));
            }

            // Backward, row by row, in reverse: the two steps of LayerNormReference.Backward.
            T[] dXhat = new T[n * d], dw = new T[d], db = new T[d], dx = new T[n * d], meanDXhat = new T[n], meanDXhatXhat = new T[n];
            for (int r = 0; r < n; r++)
            {
                LayerNormReference.ScaleAndShiftBackward<T>(dy.AsSpan(r * d, d), xhat.AsSpan(r * d, d), w, dXhat.AsSpan(r * d, d), dw, db);
                (meanDXhat[r], meanDXhatXhat[r]) = LayerNormReference.NormalizeBackwardMeans<T>(dXhat.AsSpan(r * d, d), xhat.AsSpan(r * d, d));
                LayerNormReference.NormalizeBackward<T>(dXhat.AsSpan(r * d, d), xhat.AsSpan(r * d, d), rstd[r], dx.AsSpan(r * d, d));
            }

            var x64 = Numbers.ToDouble<T>(x);
            var xhat64 = new double[n * d];
            LayerNormReference.Forward<double>(x64, [], [], xhat64, [], [], n, d, Eps);   // no w, no b: y = x̂
            return new Passes
            {
                N = n, D = d, X = x64, W = Numbers.ToDouble<T>(w), B = Numbers.ToDouble<T>(b), DY = Numbers.ToDouble<T>(dy),
                Mean = Numbers.ToDouble<T>(mean), Rstd = Numbers.ToDouble<T>(rstd), Xhat = Numbers.ToDouble<T>(xhat), Y = Numbers.ToDouble<T>(y),
                DXhat = Numbers.ToDouble<T>(dXhat), DW = Numbers.ToDouble<T>(dw), DB = Numbers.ToDouble<T>(db), DX = Numbers.ToDouble<T>(dx),
                MeanDXhat = Numbers.ToDouble<T>(meanDXhat), MeanDXhatXhat = Numbers.ToDouble<T>(meanDXhatXhat), XhatFloat64 = xhat64,
            };
        }

        /// <summary>L(x̂, w, b) = Σ (x̂·w + b) ⊙ dY through <see cref="LayerNormReference.ScaleAndShift{T}"/>.</summary>
        public double LossFromAffine(double[] xhat, double[] w, double[] b)
        {
            var y = new double[N * D];
            for (int r = 0; r < N; r++) LayerNormReference.ScaleAndShift<double>(xhat.AsSpan(r * D, D), w, b, y.AsSpan(r * D, D));
            return FiniteDifferences.Dot(y, DY);
        }

        /// <summary>L(x) = Σ LayerNorm(x) ⊙ dY through <see cref="LayerNormReference.Forward{T}"/>.</summary>
        public double LossFromX(double[] x)
        {
            var y = new double[N * D];
            LayerNormReference.Forward<double>(x, W, B, y, [], [], N, D, Eps);
            return FiniteDifferences.Dot(y, DY);
        }
    }
}
