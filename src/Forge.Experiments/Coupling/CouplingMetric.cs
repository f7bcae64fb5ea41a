using MathNet.Numerics.LinearAlgebra;

namespace Forge.Experiments.Coupling;

/// <summary>How m_K is normalised: by ‖s_{1,K}‖₂ (the paper's main definition) or by Σ_k σ_k (its variant).</summary>
public enum CouplingNorm { Frobenius, Sum }

/// <summary>
/// The coupling of two Jacobians (Aubry et al. 2025, as in the authors' code): with J₂ = U₂ S₂ V₂ᵀ,
/// <c>m_K(J₁, J₂) = ‖ |U₂,Kᵀ · J₁ · V₂,K| − S₁,K ‖_F / ‖s₁,K‖₂</c> — how far J₂'s top-K singular bases are
/// from diagonalising J₁ into J₁'s own top-K singular values. |·| is entrywise (singular vectors have no
/// sign), S₁,K = diag(σ₁ … σ_K of J₁). 0 when J₁ and J₂ share their top-K singular vectors (in order); about
/// 1 for unrelated random matrices. Not symmetric.
/// </summary>
public static class CouplingMetric
{
    public static double M(JacobianSvd j1, JacobianSvd j2, int k, CouplingNorm norm = CouplingNorm.Frobenius)
    {
        if (j1.Dimension != j2.Dimension) throw new ArgumentException($"coupling: Jacobians of sizes {j1.Dimension} and {j2.Dimension}");
        if (k < 1 || k > j1.Dimension) throw new ArgumentException($"coupling: K = {k} must be between 1 and d_model = {j1.Dimension}");
        var product = Projected(j1, j2, k);
        double difference = 0;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
            {
                double e = Math.Abs(product[a, b]) - (a == b ? j1.S[a] : 0);
                difference += e * e;
            }
        double scale = norm == CouplingNorm.Frobenius
            ? Math.Sqrt(j1.S.Take(k).Sum(s => s * s))
            : j1.S.Take(k).Sum();
        return scale == 0 ? double.NaN : Math.Sqrt(difference) / scale;
    }

    /// <summary>U₂,Kᵀ · J₁ · V₂,K: J₁ seen in J₂'s top-K singular bases (K × K; the figures show its absolute value).</summary>
    public static Matrix<double> Projected(JacobianSvd j1, JacobianSvd j2, int k) =>
        j2.U.SubMatrix(0, j2.Dimension, 0, k).TransposeThisAndMultiply(j1.Matrix * j2.V.SubMatrix(0, j2.Dimension, 0, k));

    /// <summary>C_K[i, j] = m_K(J^i, J^j) over a list of Jacobians (the diagonal is 0 by definition).</summary>
    public static double[,] Matrix(IReadOnlyList<JacobianSvd> jacobians, int k, CouplingNorm norm = CouplingNorm.Frobenius)
    {
        int n = jacobians.Count;
        var c = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                c[i, j] = i == j ? 0 : M(jacobians[i], jacobians[j], k, norm);
        return c;
    }

    /// <summary>The per-model scalar [ours]: the mean of 1 − m over the off-diagonal entries of a coupling matrix (NaNs skipped).</summary>
    public static double Scalar(double[,] coupling)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < coupling.GetLength(0); i++)
            for (int j = 0; j < coupling.GetLength(1); j++)
                if (i != j && double.IsFinite(coupling[i, j])) { sum += 1 - coupling[i, j]; count++; }
        return count == 0 ? double.NaN : sum / count;
    }
}
