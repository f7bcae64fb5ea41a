using Forge.Kernels;

namespace Forge.Models.Interpretability;

/// <summary>Dense double matrices (double[rows, cols]) for analysis code: products through the GEMM kernel.</summary>
public static class Matrix
{
    /// <summary>a (m, k) · b (k, n).</summary>
    public static double[,] Multiply(double[,] a, double[,] b, bool transposeB = false)
    {
        int m = a.GetLength(0), k = a.GetLength(1);
        int n = transposeB ? b.GetLength(0) : b.GetLength(1);
        int kb = transposeB ? b.GetLength(1) : b.GetLength(0);
        if (k != kb) throw new ShapeException($"Matrix.Multiply: ({m}, {k}) · ({b.GetLength(0)}, {b.GetLength(1)}){(transposeB ? "ᵀ" : "")} do not fit");
        var c = new double[m, n];
        Gemm.Run(false, transposeB, m, n, k, 1.0, Flat(a), Math.Max(k, 1), Flat(b), Math.Max(b.GetLength(1), 1), 0.0, Flat(c), Math.Max(n, 1));
        return c;
    }

    /// <summary>Multiplies a chain left to right: Multiply(Multiply(m₀, m₁), m₂)….</summary>
    public static double[,] Chain(params double[][,] matrices) => matrices.Skip(1).Aggregate(matrices[0], (acc, next) => Multiply(acc, next));

    public static double[,] Transpose(double[,] a)
    {
        var t = new double[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) t[j, i] = a[i, j];
        return t;
    }

    /// <summary>The row-major elements of a 2-D array, without copying.</summary>
    public static Span<double> Flat(double[,] a) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref a[0, 0], a.Length);

    public static double[,] FromTensor<T>(Tensor<T> t) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        if (t.Rank != 2) throw new ShapeException("Matrix.FromTensor", "needs a 2-D tensor", t.Shape);
        var m = new double[t.Size(0), t.Size(1)];
        var values = t.ToArray();
        var flat = Flat(m);
        for (int i = 0; i < values.Length; i++) flat[i] = double.CreateChecked(values[i]);
        return m;
    }

    public static double[] Diagonal(double[,] a) => Enumerable.Range(0, Math.Min(a.GetLength(0), a.GetLength(1))).Select(i => a[i, i]).ToArray();
}
