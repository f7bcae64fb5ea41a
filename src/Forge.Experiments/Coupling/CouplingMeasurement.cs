using Forge.Models.Transformers;

namespace Forge.Experiments.Coupling;

/// <summary>What to measure: the K values, the positions whose Jacobians are taken (the last one is the one the layer × layer coupling uses), and the layer of the token-wise coupling.</summary>
public sealed record CouplingOptions(IReadOnlyList<int> Ks, IReadOnlyList<int> Positions, int TokenLayer);

/// <summary>
/// Everything the coupling command reports for one model over a set of prompts (all of one length):
/// <list type="bullet">
/// <item><see cref="Coupling"/>[K]: C_K[i, j] = m_K(J^i, J^j) between the blocks' residual Jacobians at the last
/// chosen position, averaged over prompts (L × L);</item>
/// <item><see cref="TokenCoupling"/>[K]: m_K(J^l_t, J^l_{t'}) between the chosen positions at one layer, averaged over prompts (P × P);</item>
/// <item><see cref="SingularValues"/>[l]: the singular values of J^l at the last chosen position of the first prompt, descending;</item>
/// <item><see cref="Scalar"/>[K]: the per-model coupling scalar, mean of 1 − m_K over i ≠ j and prompts [ours];</item>
/// <item><see cref="Trajectories"/>: line shape and growth of every prompt's trajectory at each chosen position;</item>
/// <item><see cref="Example"/>: the first prompt's SVDs at the last chosen position, for the |U_jᵀ J_i V_j| figures.</item>
/// </list>
/// </summary>
public sealed record CouplingResult(
    IReadOnlyDictionary<int, double[,]> Coupling, IReadOnlyDictionary<int, double[,]> CouplingSum, IReadOnlyDictionary<int, double[,]> TokenCoupling,
    IReadOnlyDictionary<int, double> Scalar, double[][] SingularValues, IReadOnlyList<TrajectoryShape> Trajectories, IReadOnlyList<JacobianSvd> Example,
    int Prompts, int PromptLength, int Layers, int DModel, IReadOnlyList<int> Positions, int TokenLayer)
{
    /// <summary>The mean of one trajectory statistic over every prompt and position where it is defined (NaN when nowhere).</summary>
    public double Mean(Func<TrajectoryShape, double> pick) => Trajectories.Select(pick).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();

    public double MeanLineShape => Mean(t => t.LineShapeScore);
}

/// <summary>
/// The coupling measurement of one model (<see cref="ResidualJacobians"/> for the Jacobians, <see cref="CouplingMetric"/>
/// for m_K, <see cref="TrajectoryShape"/> for linearity and growth), and the random-matrix baseline.
/// </summary>
public static class CouplingMeasurement
{
    /// <summary>The measurement on token prompts.</summary>
    public static CouplingResult Measure(Transformer<double> model, IReadOnlyList<int[]> prompts, CouplingOptions options, TextWriter? progress = null) =>
        Measure(model, prompts.Select(ModelPrompt.OfTokens).ToList(), options, progress);

    public static CouplingResult Measure(Transformer<double> model, IReadOnlyList<ModelPrompt> prompts, CouplingOptions options, TextWriter? progress = null)
    {
        int layers = model.Config.NLayers, d = model.Config.DModel;
        Validate(options, d, layers);
        if (prompts.Count == 0) throw new ArgumentException("coupling: no prompts");
        var sums = options.Ks.ToDictionary(k => k, _ => new double[layers, layers]);
        var sumsL1 = options.Ks.ToDictionary(k => k, _ => new double[layers, layers]);
        int p = options.Positions.Count;
        var tokenSums = options.Ks.ToDictionary(k => k, _ => new double[p, p]);
        var trajectories = new List<TrajectoryShape>();
        double[][] singular = [];
        IReadOnlyList<JacobianSvd> example = [];
        for (int n = 0; n < prompts.Count; n++)
        {
            var jacobians = ResidualJacobians.Of(model, prompts[n], options.Positions, options.TokenLayer);
            var atLast = jacobians.AtLast.Select(j => new JacobianSvd(j)).ToList();
            var atTokenLayer = jacobians.AtTokenLayer.Select((j, i) => options.Positions[i] == options.Positions[^1] ? atLast[options.TokenLayer] : new JacobianSvd(j)).ToList();
            foreach (int k in options.Ks)
            {
                Add(sums[k], CouplingMetric.Matrix(atLast, k));
                Add(sumsL1[k], CouplingMetric.Matrix(atLast, k, CouplingNorm.Sum));
                Add(tokenSums[k], CouplingMetric.Matrix(atTokenLayer, k));
            }
            foreach (int position in options.Positions)
                trajectories.Add(TrajectoryShape.Of(jacobians.Stream.Select(layer => layer[position]).ToList()));
            if (n == 0)
            {
                singular = atLast.Select(s => s.S).ToArray();
                example = atLast;
            }
            progress?.WriteLine($"  prompt {n + 1}/{prompts.Count}: {layers} blocks at position {options.Positions[^1]}, block {options.TokenLayer} at {p} position{(p == 1 ? "" : "s")}; {d} × {d} Jacobians");
        }
        var coupling = sums.ToDictionary(e => e.Key, e => Scale(e.Value, 1.0 / prompts.Count));
        return new CouplingResult(coupling, sumsL1.ToDictionary(e => e.Key, e => Scale(e.Value, 1.0 / prompts.Count)),
            tokenSums.ToDictionary(e => e.Key, e => Scale(e.Value, 1.0 / prompts.Count)),
            coupling.ToDictionary(e => e.Key, e => CouplingMetric.Scalar(e.Value)), singular, trajectories, example,
            prompts.Count, prompts[0].Positions, layers, d, options.Positions, options.TokenLayer);
    }

    /// <summary>
    /// The random-matrix baseline: the same statistics for <paramref name="layers"/> independent d × d Gaussian matrices
    /// (entries N(0, 1/d)), averaged over <paramref name="repeats"/> draws — what "no coupling" looks like at this d and K.
    /// </summary>
    public static IReadOnlyDictionary<int, double[,]> RandomBaseline(int d, int layers, IReadOnlyList<int> ks, int repeats, Rng rng)
    {
        var sums = ks.ToDictionary(k => k, _ => new double[layers, layers]);
        for (int r = 0; r < repeats; r++)
        {
            var svds = Enumerable.Range(0, layers).Select(_ =>
            {
                var m = new double[d, d];
                for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) m[i, j] = rng.NextNormal() / Math.Sqrt(d);
                return new JacobianSvd(m);
            }).ToList();
            foreach (int k in ks) Add(sums[k], CouplingMetric.Matrix(svds, k));
        }
        return sums.ToDictionary(e => e.Key, e => Scale(e.Value, 1.0 / repeats));
    }

    public static void Validate(CouplingOptions options, int dModel, int layers)
    {
        if (options.Ks.Count == 0) throw new ArgumentException("coupling: no K given");
        foreach (int k in options.Ks)
            if (k < 1 || k > dModel) throw new ArgumentException($"coupling: --k {k} must be between 1 and the model's d_model = {dModel}");
        if (options.Positions.Count == 0) throw new ArgumentException("coupling: no positions");
        if (options.TokenLayer < 0 || options.TokenLayer >= layers) throw new ArgumentException($"coupling: the token-wise layer {options.TokenLayer} is not one of the model's 0…{layers - 1}");
    }

    static void Add(double[,] sum, double[,] value)
    {
        for (int i = 0; i < sum.GetLength(0); i++) for (int j = 0; j < sum.GetLength(1); j++) sum[i, j] += value[i, j];
    }

    static double[,] Scale(double[,] value, double factor)
    {
        var result = (double[,])value.Clone();
        for (int i = 0; i < result.GetLength(0); i++) for (int j = 0; j < result.GetLength(1); j++) result[i, j] *= factor;
        return result;
    }
}
