using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Forge.Experiments.Reports;

/// <summary>
/// Ordinary least squares with an intercept and any number of regressors, for residualising (partial
/// correlation): what is left of y once the best linear function of the regressors is taken out.
/// </summary>
public static class LeastSquares
{
    /// <summary>
    /// The residuals e = y − Xβ̂ of the least-squares fit of y on the design X = [1, z₁, …, z_k]
    /// (n rows, k + 1 columns), where β̂ minimises ‖y − Xβ‖². e is y's component orthogonal to every column
    /// of X: Σe = 0 and Σe·z_j = 0, so no linear function of the regressors is left in it.
    /// <para>
    /// Solved by a thin QR factorisation X = QR (MathNet), not the normal equations XᵀXβ = Xᵀy, which
    /// square X's condition number (log(parameters), depth and width are strongly correlated).
    /// </para>
    /// Null when X does not have full column rank — fewer rows than columns, or a column that is (to
    /// 10⁻¹⁰ relative) a linear combination of the ones before it — because β̂ is then not unique.
    /// All values must be finite (<see cref="Correlation"/> drops incomplete models first).
    /// </summary>
    /// <param name="y">n values.</param>
    /// <param name="regressors">k columns of n values each (k may be 0: the residual is y − ȳ).</param>
    public static double[]? Residuals(IReadOnlyList<double> y, IReadOnlyList<IReadOnlyList<double>> regressors)
    {
        int n = y.Count, columns = regressors.Count + 1;
        for (int j = 0; j < regressors.Count; j++)
            if (regressors[j].Count != n)
                throw new ArgumentException($"LeastSquares.Residuals: regressor {j} has {regressors[j].Count} values, y has {n}.");
        if (n < columns) return null;
        var design = Matrix<double>.Build.Dense(n, columns, (i, j) => j == 0 ? 1 : regressors[j - 1][i]);   // [n, k+1]
        var qr = design.QR(QRMethod.Thin);
        // R[j, j] is the length of the part of column j that the columns before it cannot reproduce.
        for (int j = 0; j < columns; j++)
            if (!(Math.Abs(qr.R[j, j]) > 1e-10 * design.Column(j).L2Norm())) return null;
        var target = Vector<double>.Build.DenseOfEnumerable(y);   // [n]
        var coefficients = qr.Solve(target);                      // [k+1]
        return (target - design * coefficients).ToArray();
    }
}
