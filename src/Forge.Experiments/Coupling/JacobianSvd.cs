using MathNet.Numerics.LinearAlgebra;

namespace Forge.Experiments.Coupling;

/// <summary>
/// A full SVD J = U·diag(S)·Vᵀ of a square Jacobian (singular values descending, U and V orthogonal, their
/// columns the left and right singular vectors), with the matrix itself kept for the coupling products.
/// Computed by Math.NET (analysis code; the engine has no SVD of its own).
/// </summary>
public sealed class JacobianSvd
{
    public JacobianSvd(double[,] jacobian)
    {
        if (jacobian.GetLength(0) != jacobian.GetLength(1)) throw new ArgumentException($"coupling: a residual Jacobian is square, not {jacobian.GetLength(0)} × {jacobian.GetLength(1)}");
        Matrix = Matrix<double>.Build.DenseOfArray(jacobian);
        var svd = Matrix.Svd(computeVectors: true);
        U = svd.U;
        V = svd.VT.Transpose();
        S = svd.S.ToArray();
    }

    public Matrix<double> Matrix { get; }
    public Matrix<double> U { get; }
    public Matrix<double> V { get; }
    /// <summary>Singular values, descending.</summary>
    public double[] S { get; }
    public int Dimension => S.Length;
}
