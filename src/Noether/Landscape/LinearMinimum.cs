using Noether.Tensors;

namespace Noether.Landscape;

/// <summary>
/// The flat directions of the linear two-layer network F = UVX at a global minimum, and its curved spectrum there.
/// </summary>
/// <remarks>
/// Derivation (X = I_n, so the output is W = UV, m×n). At a zero-residual minimum the Hessian of L = ½‖Y − UV‖² is the
/// Gauss–Newton matrix JᵀJ, where J(δU, δV) = δU·V + U·δV is the differential of (U, V) ↦ UV; so its null space is the
/// tangent space of the fibre {(U, V) : UV = Y}, of dimension h(m + n) − rank J. The image of J is the sum of
/// {δU·V} (matrices whose rows lie in the row space of V: m·r_V dimensions) and {U·δV} (columns in the column space of
/// U: r_U·n dimensions), which meet in r_U·r_V dimensions; hence rank J = m·r_V + n·r_U − r_U·r_V = mn − (m − r_U)(n − r_V)
/// and the fibre has dimension h(m + n) − mn + (m − r_U)(n − r_V). At a global minimum with rank Y = n ≤ h (as in
/// Fig. 8: m = 10, h = 50, n = 5) V has full column rank r_V = n, the correction term vanishes, and the dimension is
/// h(m + n) − mn = 750 − 50 = 700: exactly the paper's "700 of 750" near-zero eigenvalues, at every point of the minimum
/// whatever its Q. The other mn eigenvalues are those of JJᵀ: E ↦ E·VᵀV + UUᵀ·E, i.e. the sums αᵢ + βⱼ of the
/// eigenvalues of UUᵀ (m) and VᵀV (n) — which is how Q = UᵀU − VVᵀ moves them.
/// </remarks>
public static class LinearMinimum
{
    /// <summary>h(m + n) − mn + (m − r_U)(n − r_V): the dimension of {(U, V) : UV = W} through a point with rank U = r_U, rank V = r_V.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Non-positive sizes or ranks outside [0, min of the matrix sizes].</exception>
    public static int FibreDimension(int m, int h, int n, int rankU, int rankV)
    {
        Errors.ThrowIfNotPositive(m, nameof(m));
        Errors.ThrowIfNotPositive(h, nameof(h));
        Errors.ThrowIfNotPositive(n, nameof(n));
        if (rankU < 0 || rankU > Math.Min(m, h)) throw Errors.OutOfRange(nameof(rankU), rankU, $"a rank of the {m}×{h} matrix U (0 … {Math.Min(m, h)})");
        if (rankV < 0 || rankV > Math.Min(h, n)) throw Errors.OutOfRange(nameof(rankV), rankV, $"a rank of the {h}×{n} matrix V (0 … {Math.Min(h, n)})");
        return h * (m + n) - m * n + (m - rankU) * (n - rankV);
    }

    /// <summary>
    /// The mn curved Hessian eigenvalues at a zero-residual point of c·‖Y − UV‖² (c = ½ for the SPEC loss): 2c(αᵢ + βⱼ) with
    /// αᵢ the eigenvalues of UUᵀ and βⱼ those of VᵀV, ascending.
    /// </summary>
    public static double[] GaussNewtonEigenvalues(Tensor<double> u, Tensor<double> v, double scale = 0.5)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.Rank != 2 || v.Rank != 2 || u.Dim(1) != v.Dim(0)) throw Errors.ShapeMismatch("gauss-newton spectrum", "U", u.Shape, "V", v.Shape, "expected U m×h and V h×n");
        Errors.ThrowIfNotPositive(scale, nameof(scale));
        var (alpha, _) = LinearAlgebra.SymmetricEigen(Symmetrise(TensorOps.MatMul(u, u, transposeB: true)), vectors: false);
        var (beta, _) = LinearAlgebra.SymmetricEigen(Symmetrise(TensorOps.MatMul(v, v, transposeA: true)), vectors: false);
        return alpha.SelectMany(a => beta.Select(b => 2 * scale * (a + b))).Order().ToArray();
    }

    private static Tensor<double> Symmetrise(Tensor<double> a)
    {
        int n = a.Dim(0);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) a[i, j] = a[j, i] = 0.5 * (a[i, j] + a[j, i]);
        return a;
    }
}
