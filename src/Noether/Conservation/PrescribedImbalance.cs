using Noether.Nn;
using Noether.Tensors;

namespace Noether.Conservation;

/// <summary>
/// Initialisers with a prescribed conserved quantity: since gradient flow keeps Q fixed from the first step (Ex. 7, 9),
/// choosing Q at initialisation chooses it for the whole run — and with it the convergence rate and the sharpness of the
/// minimum reached (Appendices F–G).
/// </summary>
public static class PrescribedImbalance
{
    /// <summary>
    /// U (m×h) and V (h×n) with UᵀU − VVᵀ = <paramref name="q"/> exactly (to rounding). Construction: Q = E Λ Eᵀ splits into
    /// P Pᵀ − N Nᵀ with P = E₊Λ₊^{½} (h×n₊) and N = E₋|Λ₋|^{½} (h×n₋); a random common part G (h×r, N(0, std²) entries,
    /// r = min(m − n₊, n − n₋)) is added to both Gram matrices, and U = Z[P, G]ᵀ, V = [N, G]Z'ᵀ with Z, Z' random matrices
    /// with orthonormal columns, so that UᵀU = PPᵀ + GGᵀ and VVᵀ = NNᵀ + GGᵀ. A Q is attainable by some (U, V) of these shapes
    /// exactly when n₊ ≤ m and n₋ ≤ n (UᵀU has rank ≤ m, VVᵀ rank ≤ n; the construction shows sufficiency).
    /// </summary>
    /// <param name="q">The symmetric h×h target.</param>
    /// <param name="m">Output width.</param>
    /// <param name="n">Input width.</param>
    /// <param name="random">Seeded generator.</param>
    /// <param name="std">Scale of the random common part G (0: the smallest (U, V), with UV = 0 since the ranges of P and N are orthogonal).</param>
    /// <exception cref="ArgumentException">A non-square, non-symmetric or non-finite q, or one with more than m positive or n negative eigenvalues.</exception>
    public static TwoLayerParameters Linear(Tensor<double> q, int m, int n, Random random, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(random);
        Errors.ThrowIfNotPositive(m, nameof(m));
        Errors.ThrowIfNotPositive(n, nameof(n));
        if (!(std >= 0) || double.IsInfinity(std)) throw Errors.OutOfRange(nameof(std), std, "a finite standard deviation ≥ 0");
        if (q.Rank != 2 || q.Dim(0) != q.Dim(1) || q.Dim(0) == 0) throw Errors.BadShape("prescribed Q", nameof(q), q.Shape, "a square h×h matrix");
        if (!q.AllFinite()) throw Errors.Argument(nameof(q), "prescribed Q: q has non-finite entries");
        int h = q.Dim(0);
        double asym = TensorOps.MaxAbs(LinearAlgebra.AntisymmetricPart(q));
        if (asym > 1e-12 * Math.Max(1, TensorOps.MaxAbs(q)))
            throw Errors.Argument(nameof(q), string.Create(CultureInfo.InvariantCulture, $"prescribed Q: q is not symmetric (max |q − qᵀ|/2 = {asym:G3}); UᵀU − VVᵀ always is"));
        var (lambda, e) = LinearAlgebra.SymmetricEigen(LinearAlgebra.SymmetricPart(q));
        double cut = 1e-14 * Math.Max(lambda.Max(Math.Abs), double.Epsilon);
        var pos = Enumerable.Range(0, h).Where(i => lambda[i] > cut).ToArray();
        var neg = Enumerable.Range(0, h).Where(i => lambda[i] < -cut).ToArray();
        if (pos.Length > m)
            throw Errors.Argument(nameof(q), $"prescribed Q: q has {pos.Length} positive eigenvalues, but UᵀU − VVᵀ has at most m = {m} (UᵀU has rank ≤ m)");
        if (neg.Length > n)
            throw Errors.Argument(nameof(q), $"prescribed Q: q has {neg.Length} negative eigenvalues, but UᵀU − VVᵀ has at most n = {n} (VVᵀ has rank ≤ n)");
        int r = std > 0 ? Math.Min(m - pos.Length, n - neg.Length) : 0;
        var common = r > 0 ? Gaussian.Matrix(random, h, r, std) : null;
        var left = Factor(e!, lambda, pos, common, h);   // [P, G], h × (n₊ + r)
        var right = Factor(e!, lambda, neg, common, h);  // [N, G], h × (n₋ + r)
        var u = left is null ? Tensor<double>.Zeros(m, h) : LinearAlgebra.Multiply(Orthonormal(random, m, left.Dim(1)), left, transposeB: true);
        var v = right is null ? Tensor<double>.Zeros(h, n) : LinearAlgebra.Multiply(right, Orthonormal(random, n, right.Dim(1)), transposeB: true);
        return new TwoLayerParameters(u, v);
    }

    /// <summary>
    /// U (m×h) and V (h×n) with diag(UᵀU − VVᵀ) = <paramref name="q"/> (the conserved quantity of ReLU and LeakyReLU, Ex. 9):
    /// Gaussian entries (stds <paramref name="stdU"/>, <paramref name="stdV"/>), then each hidden unit a rescaled,
    /// U_{:,a} ↦ U_{:,a}/√x, V_{a,:} ↦ √x·V_{a,:}, with x &gt; 0 solving ‖U_{:,a}‖²/x − x‖V_{a,:}‖² = qₐ (every qₐ is reachable).
    /// </summary>
    /// <exception cref="ArgumentException">An empty or non-finite q, or non-positive stds.</exception>
    public static TwoLayerParameters Diagonal(IReadOnlyList<double> q, int m, int n, Random random, double stdU = 1, double stdV = 1)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(random);
        if (q.Count == 0) throw Errors.Argument(nameof(q), "prescribed diag Q: q is empty (one value per hidden unit)");
        Errors.ThrowIfNotPositive(stdU, nameof(stdU));
        Errors.ThrowIfNotPositive(stdV, nameof(stdV));
        for (int a = 0; a < q.Count; a++)
            if (!double.IsFinite(q[a])) throw Errors.Argument(nameof(q), string.Create(CultureInfo.InvariantCulture, $"prescribed diag Q: q[{a}] = {q[a]} is not finite"));
        int h = q.Count;
        var theta = TwoLayerParameters.Gaussian(random, m, h, n, stdU, stdV);
        for (int a = 0; a < h; a++)
        {
            double uu = 0, vv = 0;
            for (int i = 0; i < m; i++) uu += theta.U[i, a] * theta.U[i, a];
            for (int j = 0; j < n; j++) vv += theta.V[a, j] * theta.V[a, j];
            // vv·x² + q·x − uu = 0, the positive root without cancellation (uu, vv > 0 with probability 1).
            double root = Math.Sqrt(q[a] * q[a] + 4 * uu * vv);
            double x = q[a] >= 0 ? 2 * uu / (q[a] + root) : (-q[a] + root) / (2 * vv);
            double d = Math.Sqrt(x);
            for (int i = 0; i < m; i++) theta.U[i, a] /= d;
            for (int j = 0; j < n; j++) theta.V[a, j] *= d;
        }
        return theta;
    }

    // [E_S |Λ_S|^{½}, G] for the eigen-indices S, or null when it has no columns.
    private static Tensor<double>? Factor(Tensor<double> e, double[] lambda, int[] indices, Tensor<double>? common, int h)
    {
        int r = common?.Dim(1) ?? 0, k = indices.Length + r;
        if (k == 0) return null;
        var f = Tensor<double>.Zeros(h, k);
        for (int c = 0; c < indices.Length; c++)
        {
            double s = Math.Sqrt(Math.Abs(lambda[indices[c]]));
            for (int i = 0; i < h; i++) f[i, c] = e[i, indices[c]] * s;
        }
        for (int c = 0; c < r; c++)
            for (int i = 0; i < h; i++) f[i, indices.Length + c] = common![i, c];
        return f;
    }

    // A rows×cols matrix (cols ≤ rows) with orthonormal columns: the left singular vectors of a Gaussian matrix.
    private static Tensor<double> Orthonormal(Random random, int rows, int cols)
    {
        var (_, u, _) = LinearAlgebra.Svd(Gaussian.Matrix(random, rows, cols), vectors: true);
        return u!;
    }
}
