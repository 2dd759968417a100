using MathNet.Numerics.LinearAlgebra;
using Noether.Tensors;

namespace Noether.Symmetry;

/// <summary>
/// The one bridge from Noether's tensors to dense factorizations (SVD, LU), currently MathNet.Numerics'
/// managed provider. Kept in one place so the LAPACK wrapper can replace it without touching the callers.
/// </summary>
internal static class DenseLinearAlgebra
{
    public static Matrix<double> ToMatrix(Tensor<double> a)
    {
        int r = a.Dim(0), c = a.Dim(1);
        var m = Matrix<double>.Build.Dense(r, c);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                m[i, j] = a.Data[i * c + j];
        return m;
    }

    public static Tensor<double> FromMatrix(Matrix<double> m)
    {
        var t = Tensor<double>.Zeros(m.RowCount, m.ColumnCount);
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++)
                t.Data[i * m.ColumnCount + j] = m[i, j];
        return t;
    }

    /// <summary>Singular values, largest first.</summary>
    public static double[] SingularValues(Tensor<double> a) => SingularValues(ToMatrix(a));

    /// <summary>Singular values, largest first.</summary>
    public static double[] SingularValues(Matrix<double> a)
    {
        // Factorizing the wide orientation is cheaper; the singular values are the same.
        var m = a.RowCount < a.ColumnCount ? a.Transpose() : a;
        if (m.ColumnCount == 0) return [];
        return m.Svd(computeVectors: false).S.ToArray();
    }

    /// <summary>Number of singular values above <paramref name="relativeTolerance"/>·σ_max.</summary>
    public static int Rank(double[] singularValues, double relativeTolerance)
    {
        if (singularValues.Length == 0 || singularValues[0] == 0) return 0;
        double cut = relativeTolerance * singularValues[0];
        return singularValues.Count(s => s > cut);
    }

    /// <summary>The Moore–Penrose pseudoinverse from an SVD, dropping singular values ≤ tol·σ_max; also its rank and σ_max/σ_min.</summary>
    public static (Tensor<double> Pinv, int Rank, double Condition, double[] SingularValues) PseudoInverse(Tensor<double> a, double relativeTolerance)
    {
        var m = ToMatrix(a);
        var svd = m.Svd(computeVectors: true);
        var s = svd.S.ToArray();
        int rank = Rank(s, relativeTolerance);
        // A⁺ = V Σ⁺ Uᵀ over the kept singular triplets.
        var u = svd.U;
        var vt = svd.VT;
        var pinv = Matrix<double>.Build.Dense(m.ColumnCount, m.RowCount);
        for (int r = 0; r < rank; r++)
        {
            double inv = 1.0 / s[r];
            for (int i = 0; i < m.ColumnCount; i++)
            {
                double vi = vt[r, i] * inv;
                if (vi == 0) continue;
                for (int j = 0; j < m.RowCount; j++) pinv[i, j] += vi * u[j, r];
            }
        }
        double condition = s.Length == 0 ? 1 : s[^1] == 0 ? double.PositiveInfinity : s[0] / s[^1];
        return (FromMatrix(pinv), rank, condition, s);
    }

    /// <summary>g⁻¹ by LU with partial pivoting (the caller has checked that g is well conditioned).</summary>
    public static Tensor<double> Inverse(Tensor<double> g) => FromMatrix(ToMatrix(g).Inverse());

    /// <summary>Full SVD: A = U diag(S) Vᵀ, returned as (S, Vᵀ) — the right singular vectors are the rows of Vᵀ.</summary>
    public static (double[] S, Matrix<double> VT) RightSingularVectors(Matrix<double> a)
    {
        var svd = a.Svd(computeVectors: true);
        return (svd.S.ToArray(), svd.VT);
    }

    /// <summary>
    /// exp(A) by scaling and squaring with a degree-18 Taylor polynomial: A is halved until ‖A‖₁ ≤ ½, where the
    /// truncation error (½)¹⁹/19! ≈ 2e-23 is far below rounding; then the result is squared back.
    /// </summary>
    public static Tensor<double> Exponential(Tensor<double> a)
    {
        int n = a.Dim(0);
        var m = ToMatrix(a);
        double norm = m.L1Norm();
        int squarings = norm > 0.5 ? (int)Math.Ceiling(Math.Log2(norm / 0.5)) : 0;
        var b = m / Math.Pow(2, squarings);
        var result = Matrix<double>.Build.DenseIdentity(n);
        var term = Matrix<double>.Build.DenseIdentity(n);
        for (int k = 1; k <= 18; k++)
        {
            term = term * b / k;
            result += term;
        }
        for (int i = 0; i < squarings; i++) result *= result;
        return FromMatrix(result);
    }
}
