using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Noether.Tensors;

/// <summary>
/// Dense linear algebra on float64 matrices (row-major <see cref="Tensor{T}"/>, never modified): products, the symmetric
/// eigendecomposition, the SVD and what follows from it (rank, condition number, pseudo-inverse), inverse, exponential.
/// </summary>
/// <remarks>
/// The one boundary to the factorisation providers: LAPACK from OpenBLAS (<see cref="Lapack"/>: dsyevd_, dgesdd_, dsterf_
/// through P/Invoke) when it loads, and MathNet.Numerics' managed decompositions otherwise or under
/// <see cref="BlasProvider.Managed"/>. The two agree to rounding, not to the bit: a result stored from one provider is
/// reproduced by asking for that provider (the symmetry code asks for <see cref="BlasProvider.Managed"/>).
/// </remarks>
public static class LinearAlgebra
{
    /// <summary>True when OpenBLAS loaded and exports the LAPACK drivers used here.</summary>
    public static bool NativeAvailable => LapackNative.Available;

    /// <summary>The matrix product op(a)·op(b), op = transpose when asked (<see cref="TensorOps.MatMul{T}"/>).</summary>
    public static Tensor<double> Multiply(Tensor<double> a, Tensor<double> b, bool transposeA = false, bool transposeB = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return TensorOps.MatMul(a, b, transposeA, transposeB);
    }

    /// <summary>Aᵀ.</summary>
    public static Tensor<double> Transpose(Tensor<double> a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return TensorOps.Transpose(a);
    }

    /// <summary>(A + Aᵀ)/2 of a square matrix.</summary>
    public static Tensor<double> SymmetricPart(Tensor<double> a) => HalfSum(a, 1, "symmetric part");

    /// <summary>(A − Aᵀ)/2 of a square matrix.</summary>
    public static Tensor<double> AntisymmetricPart(Tensor<double> a) => HalfSum(a, -1, "antisymmetric part");

    /// <summary>
    /// Eigenvalues (ascending) and, when <paramref name="vectors"/>, orthonormal eigenvectors of a symmetric
    /// matrix A: column j of <c>Vectors</c> belongs to <c>Values[j]</c>, so A·V = V·Λ.
    /// </summary>
    /// <remarks>
    /// Eigenvalues only (the Hessian spectra of Fig. 8): under <see cref="BlasProvider.Auto"/> Noether's own multi-threaded
    /// Householder tridiagonalisation (<see cref="Tridiagonalization"/>) followed by LAPACK's dsterf_, or by a managed QL
    /// iteration without OpenBLAS or under <see cref="BlasProvider.Managed"/>; <see cref="BlasProvider.OpenBlas"/> asks for
    /// LAPACK's dsyevd_ itself. With eigenvectors: dsyevd_, or MathNet's managed decomposition as the fallback.
    /// </remarks>
    /// <param name="a">A square symmetric matrix (checked: |a_ij − a_ji| ≤ 1e-8·max|a|; symmetrise first if rounding broke it).</param>
    /// <param name="vectors">Also compute eigenvectors.</param>
    /// <param name="provider">OpenBLAS (dsyevd_), managed, or Auto (see remarks).</param>
    /// <exception cref="ArgumentException">Not square, not symmetric, or not finite.</exception>
    public static (double[] Values, Tensor<double>? Vectors) SymmetricEigen(Tensor<double> a, bool vectors = true, BlasProvider provider = BlasProvider.Auto)
    {
        CheckSymmetric(a);
        int n = a.Dim(0);
        if (n == 0) return ([], vectors ? Tensor<double>.Zeros(0, 0) : null);
        if (!vectors && provider != BlasProvider.OpenBlas) return (Lapack.TridiagonalEigenvalues(a, provider, Tridiagonalization.DefaultThreads(n)), null);
        return UseNative(provider) ? Lapack.NativeEigen(a, vectors) : ManagedEigen(a, vectors);
    }

    /// <summary>
    /// Thin singular value decomposition A = U·diag(S)·Vᵀ of an m×n matrix, r = min(m, n): singular values
    /// descending, and with <paramref name="vectors"/> U (m×r, orthonormal columns) and Vᵀ (r×n, orthonormal rows).
    /// </summary>
    /// <exception cref="ArgumentException">Not a matrix, or not finite.</exception>
    public static (double[] Values, Tensor<double>? U, Tensor<double>? VT) Svd(Tensor<double> a, bool vectors = false, BlasProvider provider = BlasProvider.Auto)
    {
        CheckMatrix(a, "svd");
        int m = a.Dim(0), n = a.Dim(1), r = Math.Min(m, n);
        if (r == 0) return ([], vectors ? Tensor<double>.Zeros(m, 0) : null, vectors ? Tensor<double>.Zeros(0, n) : null);
        return UseNative(provider) ? Lapack.NativeSvd(a, vectors) : ManagedSvd(a, vectors);
    }

    /// <summary>The min(m, n) singular values of A, descending.</summary>
    /// <remarks>The same values as <see cref="Svd"/>'s, except that the managed provider factors the tall orientation (Aᵀ for a wide A), which is cheaper.</remarks>
    /// <exception cref="ArgumentException">Not a matrix, or not finite.</exception>
    public static double[] SingularValues(Tensor<double> a, BlasProvider provider = BlasProvider.Auto)
    {
        CheckMatrix(a, "singular values");
        if (Math.Min(a.Dim(0), a.Dim(1)) == 0) return [];
        if (UseNative(provider)) return Lapack.NativeSvd(a, false).Values;
        var m = ToMatrix(a);
        if (m.RowCount < m.ColumnCount) m = m.Transpose();
        return m.Svd(computeVectors: false).S.ToArray();
    }

    /// <summary>
    /// Number of singular values above <paramref name="tolerance"/>; by default tol = max(m, n)·ε·σ_max with
    /// ε = 2⁻⁵² (NumPy's <c>matrix_rank</c> rule: the rounding a backward-stable SVD can leave in a zero singular value).
    /// </summary>
    public static int NumericalRank(Tensor<double> a, double? tolerance = null, BlasProvider provider = BlasProvider.Auto)
    {
        if (tolerance is { } t && (!(t >= 0) || double.IsInfinity(t))) throw Errors.OutOfRange(nameof(tolerance), t, "a non-negative finite number");
        var (s, _, _) = Svd(a, false, provider);
        if (s.Length == 0) return 0;
        double tol = tolerance ?? DefaultRelativeTolerance(a) * s[0];
        return s.Count(x => x > tol);
    }

    /// <summary>Number of <paramref name="singularValues"/> (descending) above <paramref name="relativeTolerance"/>·σ_max; 0 when σ_max is 0.</summary>
    public static int Rank(ReadOnlySpan<double> singularValues, double relativeTolerance)
    {
        if (!(relativeTolerance >= 0 && relativeTolerance < 1)) throw Errors.OutOfRange(nameof(relativeTolerance), relativeTolerance, "a number in [0, 1)");
        if (singularValues.Length == 0 || singularValues[0] == 0) return 0;
        double cut = relativeTolerance * singularValues[0];
        int rank = 0;
        foreach (double s in singularValues) if (s > cut) rank++;
        return rank;
    }

    /// <summary>The 2-norm condition number σ_max/σ_min over the min(m, n) singular values (∞ when σ_min = 0).</summary>
    /// <exception cref="ArgumentException">Not a non-empty matrix, or not finite.</exception>
    public static double ConditionNumber(Tensor<double> a, BlasProvider provider = BlasProvider.Auto)
    {
        CheckMatrix(a, "condition number");
        if (a.Length == 0) throw Errors.BadShape("condition number", nameof(a), a.Shape, "a non-empty matrix");
        return Condition(Svd(a, false, provider).Values);
    }

    /// <summary>
    /// The Moore–Penrose pseudo-inverse A⁺ = V·diag(1/σ)·Uᵀ over the singular values above
    /// <paramref name="relativeTolerance"/>·σ_max (the others count as zero); by default the tolerance is max(m, n)·2⁻⁵²,
    /// as for <see cref="NumericalRank"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Not a matrix, or not finite.</exception>
    public static PseudoInverse PseudoInverse(Tensor<double> a, double? relativeTolerance = null, BlasProvider provider = BlasProvider.Auto)
    {
        var (s, u, vt) = Svd(a, vectors: true, provider);
        int rank = Rank(s, relativeTolerance ?? DefaultRelativeTolerance(a));
        var gains = new double[rank];
        for (int q = 0; q < rank; q++) gains[q] = 1.0 / s[q];
        return new PseudoInverse(Accumulate(u!, vt!, gains), rank, Condition(s), s, 0);
    }

    /// <summary>
    /// A⁺ guarded by a condition limit: the Moore–Penrose inverse when σ_max/σ_min ≤ <paramref name="conditionLimit"/>,
    /// otherwise the Tikhonov-damped inverse V·diag(σ/(σ² + λ²))·Uᵀ with λ = σ_max/limit, whose largest gain is
    /// limit/(2σ_max): bounded, so the result stays finite however ill-conditioned A is. The zero matrix gives 0.
    /// </summary>
    /// <exception cref="ArgumentException">Not a matrix, or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The limit is not ≥ 1.</exception>
    public static PseudoInverse ConditionLimitedPseudoInverse(Tensor<double> a, double conditionLimit, BlasProvider provider = BlasProvider.Auto)
    {
        if (!(conditionLimit >= 1)) throw Errors.OutOfRange(nameof(conditionLimit), conditionLimit, "a condition limit ≥ 1");
        var (s, u, vt) = Svd(a, vectors: true, provider);
        double condition = Condition(s);
        if (s.Length == 0 || s[0] == 0) return new PseudoInverse(Tensor<double>.Zeros(a.Dim(1), a.Dim(0)), 0, condition, s, 0);
        bool damped = !(condition <= conditionLimit);
        double lambda = s[0] / conditionLimit;
        var gains = new double[s.Length];
        for (int q = 0; q < s.Length; q++) gains[q] = damped ? s[q] / (s[q] * s[q] + lambda * lambda) : 1 / s[q];
        return new PseudoInverse(Accumulate(u!, vt!, gains), Rank(s, 0), condition, s, damped ? lambda : 0);
    }

    /// <summary>R (n×n, upper triangular) of the thin QR decomposition A = Q·R of a tall m×n matrix, m ≥ n (MathNet's managed Householder QR).</summary>
    /// <remarks>RᵀR = AᵀA, so R stands in for A wherever only inner products of its columns matter (an orbit's rank, a Gram matrix).</remarks>
    /// <exception cref="ArgumentException">Not a tall matrix, or not finite.</exception>
    public static Tensor<double> QrTriangularFactor(Tensor<double> a)
    {
        CheckMatrix(a, "qr");
        int m = a.Dim(0), n = a.Dim(1);
        if (m < n) throw Errors.BadShape("qr", nameof(a), a.Shape, "a tall matrix (rows ≥ columns)");
        var r = ToMatrix(a).QR(QRMethod.Thin).R;
        var result = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) result.Data[i * n + j] = r[i, j];
        return result;
    }

    /// <summary>A⁻¹ of a square matrix, by LU with partial pivoting (MathNet, managed).</summary>
    /// <remarks>
    /// Not guarded, as the group code it serves relies on: a singular or non-finite A gives non-finite entries, which that
    /// code detects downstream. Check <see cref="ConditionNumber"/> first when A may be ill-conditioned.
    /// </remarks>
    /// <exception cref="ArgumentException">Not square.</exception>
    public static Tensor<double> Inverse(Tensor<double> a)
    {
        CheckSquare(a, "inverse");
        if (a.Length == 0) return Tensor<double>.Zeros(0, 0);
        return FromMatrix(ToMatrix(a).Inverse());
    }

    /// <summary>
    /// exp(A) by scaling and squaring with a degree-18 Taylor polynomial: A is halved until ‖A‖₁ ≤ ½, where the
    /// truncation error (½)¹⁹/19! ≈ 2e-23 is far below rounding; then the result is squared back.
    /// </summary>
    /// <remarks>A non-finite A gives a non-finite result (teleportation's line search rejects such a step).</remarks>
    /// <exception cref="ArgumentException">Not square.</exception>
    public static Tensor<double> Exponential(Tensor<double> a)
    {
        CheckSquare(a, "matrix exponential");
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

    /// <summary>True when <paramref name="a"/> is an n×n matrix.</summary>
    internal static bool IsSquare(Tensor<double> a, int n) => a.Rank == 2 && a.Dim(0) == n && a.Dim(1) == n;

    /// <summary>Checks that <paramref name="a"/> is a finite n×n matrix (<paramref name="name"/> is the caller's parameter).</summary>
    internal static void CheckSquare(Tensor<double> a, int n, string op, string name)
    {
        ArgumentNullException.ThrowIfNull(a, name);
        if (!IsSquare(a, n)) throw Errors.BadShape(op, name, a.Shape, $"a {n}×{n} matrix");
        if (!a.AllFinite()) throw Errors.Argument(name, $"{op}: {name} has non-finite entries");
    }

    /// <summary>(A + sign·Aᵀ)/2; sign = ±1, and a + (−1)·b rounds exactly as a − b.</summary>
    private static Tensor<double> HalfSum(Tensor<double> a, double sign, string op)
    {
        CheckSquare(a, op);
        int n = a.Dim(0);
        var r = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                r.Data[i * n + j] = 0.5 * (a.Data[i * n + j] + sign * a.Data[j * n + i]);
        return r;
    }

    /// <summary>max(m, n)·2⁻⁵²: NumPy's relative rank tolerance.</summary>
    private static double DefaultRelativeTolerance(Tensor<double> a) => Math.Max(a.Dim(0), a.Dim(1)) * Math.Pow(2, -52);

    /// <summary>σ_max/σ_min of descending singular values (∞ when σ_min = 0; 1 when there are none).</summary>
    private static double Condition(double[] s) => s.Length == 0 ? 1 : s[^1] > 0 ? s[0] / s[^1] : double.PositiveInfinity;

    /// <summary>Σ_q v_q·gain_q·u_qᵀ over the first gains.Length singular triplets: an n×m matrix for an m×n A.</summary>
    private static Tensor<double> Accumulate(Tensor<double> u, Tensor<double> vt, double[] gains)
    {
        int m = u.Dim(0), r = u.Dim(1), n = vt.Dim(1);
        var result = Tensor<double>.Zeros(n, m);
        var data = result.Data;
        for (int q = 0; q < gains.Length; q++)
        {
            for (int i = 0; i < n; i++)
            {
                double vi = vt.Data[q * n + i] * gains[q];
                if (vi == 0) continue;
                for (int j = 0; j < m; j++) data[i * m + j] += vi * u.Data[j * r + q];
            }
        }
        return result;
    }

    private static bool UseNative(BlasProvider provider) => provider switch
    {
        BlasProvider.Managed => false,
        BlasProvider.OpenBlas => LapackNative.Available
            ? true
            : throw new InvalidOperationException("OpenBLAS LAPACK was requested but libopenblas.so.0 (with dsyevd_ and dgesdd_) could not be loaded (Debian: apt-get install libopenblas0-pthread)"),
        _ => LapackNative.Available,
    };

    private static void CheckMatrix(Tensor<double> a, string op)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank != 2) throw Errors.BadShape(op, nameof(a), a.Shape, "a matrix (rank 2)");
        CheckFinite(a, op);
    }

    private static void CheckSquare(Tensor<double> a, string op)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank != 2 || a.Dim(0) != a.Dim(1)) throw Errors.BadShape(op, nameof(a), a.Shape, "a square matrix");
    }

    private static void CheckFinite(Tensor<double> a, string op)
    {
        if (!a.AllFinite()) throw Errors.Argument(nameof(a), $"{op}: a ({Errors.Shape(a.Shape)}) contains NaN or infinity");
    }

    /// <summary>Checks that <paramref name="a"/> is a finite symmetric matrix.</summary>
    private static void CheckSymmetric(Tensor<double> a)
    {
        CheckSquare(a, "symmetric eigen");
        int n = a.Dim(0);
        if (n == 0) return;
        ReadOnlySpan<double> data = a.Data;
        // MaxMagnitude returns the entry itself, sign included; NaN or ∞ exactly when some entry is.
        double max = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(data));
        if (!double.IsFinite(max)) CheckFinite(a, "symmetric eigen");
        // |a_ij − a_ji| in 32×32 tiles, so the column walk stays in cache.
        double worst = 0;
        const int tile = 32;
        for (int i0 = 0; i0 < n; i0 += tile)
            for (int j0 = 0; j0 <= i0; j0 += tile)
                for (int i = i0, iEnd = Math.Min(i0 + tile, n); i < iEnd; i++)
                {
                    var row = data.Slice(i * n, n);
                    for (int j = j0, jEnd = Math.Min(j0 + tile, i); j < jEnd; j++)
                        worst = Math.Max(worst, Math.Abs(row[j] - data[j * n + i]));
                }
        if (worst > 1e-8 * max)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < i; j++)
                    if (Math.Abs(data[i * n + j] - data[j * n + i]) == worst)
                        throw Errors.Argument(nameof(a), $"symmetric eigen: a ({n}×{n}) is not symmetric: a[{i},{j}] − a[{j},{i}] = {Math.Abs(data[i * n + j] - data[j * n + i]):G3} (largest |entry| {max:G3})");
        }
    }

    private static (double[], Tensor<double>?) ManagedEigen(Tensor<double> a, bool vectors)
    {
        int n = a.Dim(0);
        var evd = ToMatrix(a).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(c => c.Real).ToArray();
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
        var sorted = order.Select(i => values[i]).ToArray();
        if (!vectors) return (sorted, null);
        var v = Tensor<double>.Zeros(n, n);
        var ev = evd.EigenVectors;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                v.Data[i * n + j] = ev[i, order[j]];
        return (sorted, v);
    }

    private static (double[], Tensor<double>?, Tensor<double>?) ManagedSvd(Tensor<double> a, bool vectors)
    {
        int m = a.Dim(0), n = a.Dim(1), r = Math.Min(m, n);
        var svd = ToMatrix(a).Svd(vectors);
        var s = svd.S.ToArray();
        if (!vectors) return (s, null, null);
        var u = Tensor<double>.Zeros(m, r);
        var vt = Tensor<double>.Zeros(r, n);
        for (int i = 0; i < m; i++)
            for (int p = 0; p < r; p++)
                u.Data[i * r + p] = svd.U[i, p];
        for (int p = 0; p < r; p++)
            for (int j = 0; j < n; j++)
                vt.Data[p * n + j] = svd.VT[p, j];
        return (s, u, vt);
    }

    private static Matrix<double> ToMatrix(Tensor<double> a)
    {
        int m = a.Dim(0), n = a.Dim(1);
        return Matrix<double>.Build.Dense(m, n, (i, j) => a.Data[i * n + j]);
    }

    private static Tensor<double> FromMatrix(Matrix<double> m)
    {
        var t = Tensor<double>.Zeros(m.RowCount, m.ColumnCount);
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++)
                t.Data[i * m.ColumnCount + j] = m[i, j];
        return t;
    }
}

/// <summary>A pseudo-inverse A⁺ (n×m for an m×n A) with the singular values it was built from.</summary>
/// <param name="Matrix">A⁺.</param>
/// <param name="Rank">Number of singular values inverted (the others counted as zero).</param>
/// <param name="ConditionNumber">σ_max/σ_min over all min(m, n) singular values of A (∞ when σ_min = 0; 1 for an empty A).</param>
/// <param name="SingularValues">σ of A, descending.</param>
/// <param name="Damping">λ of the Tikhonov-damped inverse V·diag(σ/(σ² + λ²))·Uᵀ; 0 for the Moore–Penrose inverse.</param>
public sealed record PseudoInverse(Tensor<double> Matrix, int Rank, double ConditionNumber, double[] SingularValues, double Damping)
{
    /// <summary>True when the damped inverse was taken (<see cref="LinearAlgebra.ConditionLimitedPseudoInverse"/>).</summary>
    public bool Damped => Damping > 0;
}
