using MathNet.Numerics.LinearAlgebra;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Tensors;

/// <summary>
/// Eigen- and singular-value decompositions, native (OpenBLAS dsyevd_/dgesdd_) and managed (MathNet), on the
/// Math.NET ladder of sizes: identities (A·V = V·Λ, A = U·S·Vᵀ, orthonormality) to a backward-stable bound
/// c·n·ε·‖A‖ with c = 10, values against MathNet called directly, and the two providers against each other.
/// Symmetric eigenvalues and singular values are perfectly conditioned (Weyl), so they agree to the same bound.
/// </summary>
public class LinearAlgebraTests
{
    private const double Eps = 2.220446049250313e-16;
    public static TheoryData<int> Ladder => new([1, 2, 5, 10, 50, 100]);
    public static TheoryData<BlasProvider> Providers => new([BlasProvider.OpenBlas, BlasProvider.Managed]);

    private static Tensor<double> RandomSymmetric(int n, int seed)
    {
        var b = OpCheck.RandomTensor(new Random(seed), n, n);
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i, j] = 0.5 * (b[i, j] + b[j, i]);
        return a;
    }

    private static double Frobenius(Tensor<double> a) => Math.Sqrt(a.Data.Sum(x => x * x));

    private static Matrix<double> ToMatrix(Tensor<double> a) => Matrix<double>.Build.Dense(a.Dim(0), a.Dim(1), (i, j) => a[i, j]);

    [Theory]
    [MemberData(nameof(Ladder))]
    public void SymmetricEigen_BothProviders_SatisfyAVEqualsVLambdaAndMatchMathNet(int n)
    {
        var a = RandomSymmetric(n, n);
        double norm = Frobenius(a), tol = 10 * n * Eps * norm;
        var reference = ToMatrix(a).Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).Order().ToArray();
        var results = new List<(double[] Values, Tensor<double> Vectors)>();
        foreach (var provider in new[] { BlasProvider.OpenBlas, BlasProvider.Managed })
        {
            var (values, vectors) = LinearAlgebra.SymmetricEigen(a, true, provider);
            Assert.NotNull(vectors);
            for (int i = 1; i < n; i++) Assert.True(values[i - 1] <= values[i], $"{provider}: eigenvalues not ascending");
            Close.Assert(reference, values, 0, tol, $"{provider} eigenvalues vs MathNet");
            // A·V − V·Λ and VᵀV − I, computed with plain loops.
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double av = 0, vtv = 0;
                    for (int p = 0; p < n; p++)
                    {
                        av += a[i, p] * vectors[p, j];
                        vtv += vectors[p, i] * vectors[p, j];
                    }
                    Close.Assert(vectors[i, j] * values[j], av, 0, tol, $"{provider} (AV)[{i},{j}]");
                    Close.Assert(i == j ? 1 : 0, vtv, 0, 10 * n * Eps, $"{provider} (VᵀV)[{i},{j}]");
                }
            results.Add((values, vectors));
            var (valuesOnly, none) = LinearAlgebra.SymmetricEigen(a, false, provider);
            Assert.Null(none);
            Close.Assert(values, valuesOnly, 0, tol, $"{provider} values without vectors");
        }
        Close.Assert(results[0].Values, results[1].Values, 0, tol, "providers' eigenvalues");
        // Eigenvectors agree up to sign: |⟨v_native, v_managed⟩| = 1 (random spectra have no repeated eigenvalues).
        for (int j = 0; j < n; j++)
        {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += results[0].Vectors[i, j] * results[1].Vectors[i, j];
            Close.Assert(1, Math.Abs(dot), 0, 1e-8, $"eigenvector {j} alignment");
        }
    }

    public static TheoryData<int, int> SvdShapes => new()
    {
        { 1, 1 }, { 2, 2 }, { 5, 5 }, { 10, 10 }, { 50, 50 }, { 100, 100 }, { 1, 7 }, { 7, 1 }, { 10, 3 }, { 3, 10 }, { 100, 50 }, { 50, 100 },
    };

    [Theory]
    [MemberData(nameof(SvdShapes))]
    public void Svd_BothProviders_ReconstructAAndMatchMathNet(int m, int n)
    {
        var a = OpCheck.RandomTensor(new Random(m * 101 + n), m, n);
        int r = Math.Min(m, n);
        double tol = 10 * Math.Max(m, n) * Eps * Frobenius(a);
        var reference = ToMatrix(a).Svd(false).S.ToArray();
        var values = new List<double[]>();
        foreach (var provider in new[] { BlasProvider.OpenBlas, BlasProvider.Managed })
        {
            var (s, u, vt) = LinearAlgebra.Svd(a, true, provider);
            Assert.NotNull(u);
            Assert.NotNull(vt);
            Assert.Equal(r, s.Length);
            Assert.True(u.HasShape(m, r) && vt.HasShape(r, n), $"{provider}: U is {u}, Vᵀ is {vt}");
            for (int i = 1; i < r; i++) Assert.True(s[i - 1] >= s[i], $"{provider}: singular values not descending");
            Close.Assert(reference, s, 0, tol, $"{provider} singular values vs MathNet");
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double x = 0;
                    for (int p = 0; p < r; p++) x += u[i, p] * s[p] * vt[p, j];
                    Close.Assert(a[i, j], x, 0, tol, $"{provider} (U S Vᵀ)[{i},{j}]");
                }
            for (int p = 0; p < r; p++)
                for (int q = 0; q < r; q++)
                {
                    double uu = 0, vv = 0;
                    for (int i = 0; i < m; i++) uu += u[i, p] * u[i, q];
                    for (int j = 0; j < n; j++) vv += vt[p, j] * vt[q, j];
                    Close.Assert(p == q ? 1 : 0, uu, 0, 10 * Math.Max(m, n) * Eps, $"{provider} (UᵀU)[{p},{q}]");
                    Close.Assert(p == q ? 1 : 0, vv, 0, 10 * Math.Max(m, n) * Eps, $"{provider} (VᵀV)[{p},{q}]");
                }
            values.Add(s);
            Close.Assert(s, LinearAlgebra.Svd(a, false, provider).Values, 0, tol, $"{provider} values without vectors");
        }
        Close.Assert(values[0], values[1], 0, tol, "providers' singular values");
    }

    [Theory]
    [InlineData(20, 15, 0)]
    [InlineData(20, 15, 1)]
    [InlineData(20, 15, 7)]
    [InlineData(15, 20, 15)]
    [InlineData(30, 30, 29)]
    public void NumericalRank_ProductOfThinFactors_IsTheInnerDimension(int m, int n, int rank)
    {
        var rng = new Random(m + n + rank);
        var a = rank == 0 ? Tensor<double>.Zeros(m, n) : TensorOps.MatMul(OpCheck.RandomTensor(rng, m, rank), OpCheck.RandomTensor(rng, rank, n));
        Assert.Equal(rank, LinearAlgebra.NumericalRank(a, provider: BlasProvider.OpenBlas));
        Assert.Equal(rank, LinearAlgebra.NumericalRank(a, provider: BlasProvider.Managed));
        // An explicit tolerance above every singular value gives rank 0.
        Assert.Equal(0, LinearAlgebra.NumericalRank(a, tolerance: 1e6));
    }

    [Fact]
    public void SymmetricEigen_BadInput_ThrowsNamingTheProblem()
    {
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => LinearAlgebra.SymmetricEigen(Tensor<double>.Zeros(2, 3))).Message);
        var asymmetric = Tensor<double>.FromArray(new double[,] { { 1, 2 }, { 0, 1 } });
        Assert.Contains("not symmetric", Assert.Throws<ArgumentException>(() => LinearAlgebra.SymmetricEigen(asymmetric)).Message);
        var nan = Tensor<double>.FromArray(new double[,] { { double.NaN, 0 }, { 0, 1 } });
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => LinearAlgebra.SymmetricEigen(nan)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => LinearAlgebra.Svd(nan)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearAlgebra.NumericalRank(Tensor<double>.Identity(2), -1));
    }

    // ---- Pseudo-inverse, inverse, rank, condition number, exponential: identities against independent computations ----

    /// <summary>Shapes and ranks for the Moore–Penrose identities: full rank, rank-deficient, tall, wide, rank 0.</summary>
    public static TheoryData<int, int, int> RankedShapes => new()
    {
        { 1, 1, 1 }, { 2, 2, 2 }, { 5, 5, 3 }, { 10, 10, 10 }, { 10, 4, 4 }, { 4, 10, 2 }, { 50, 50, 25 }, { 30, 60, 30 }, { 100, 50, 50 }, { 7, 3, 0 },
    };

    /// <summary>An m×n matrix of rank exactly <paramref name="rank"/>: a product of Gaussian m×rank and rank×n factors.</summary>
    private static Tensor<double> RankedMatrix(int m, int n, int rank, int seed)
    {
        if (rank == 0) return Tensor<double>.Zeros(m, n);
        var rng = new Random(seed);
        return TensorOps.MatMul(OpCheck.RandomTensor(rng, m, rank), OpCheck.RandomTensor(rng, rank, n));
    }

    private static Tensor<double> Mul(Tensor<double> a, Tensor<double> b)
    {
        int m = a.Dim(0), k = a.Dim(1), n = b.Dim(1);
        var c = Tensor<double>.Zeros(m, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double x = 0;
                for (int p = 0; p < k; p++) x += a[i, p] * b[p, j];
                c[i, j] = x;
            }
        return c;
    }

    private static Tensor<double> T(Tensor<double> a)
    {
        var t = Tensor<double>.Zeros(a.Dim(1), a.Dim(0));
        for (int i = 0; i < a.Dim(0); i++)
            for (int j = 0; j < a.Dim(1); j++) t[j, i] = a[i, j];
        return t;
    }

    [Theory]
    [MemberData(nameof(RankedShapes))]
    public void PseudoInverse_KnownRank_SatisfiesTheFourMoorePenroseIdentities(int m, int n, int rank)
    {
        var a = RankedMatrix(m, n, rank, 31 * m + n);
        foreach (var provider in new[] { BlasProvider.OpenBlas, BlasProvider.Managed })
        {
            var p = LinearAlgebra.PseudoInverse(a, provider: provider);
            var x = p.Matrix;
            Assert.True(x.HasShape(n, m), $"{provider}: A⁺ is {x}");
            Assert.Equal(rank, p.Rank);
            Assert.Equal(0, p.Damping);
            Assert.Equal(Math.Min(m, n), p.SingularValues.Length);
            // Backward-stable bound: the error of each identity is ~ max(m, n)·ε·κ times its scale, κ = σ₁/σ_rank.
            double kappa = rank == 0 ? 1 : p.SingularValues[0] / p.SingularValues[rank - 1];
            double tol = 100 * Math.Max(m, n) * Eps * kappa;
            var ax = Mul(a, x);
            var xa = Mul(x, a);
            Close.Assert(a, Mul(ax, a), 0, tol * Math.Max(1, Frobenius(a)), $"{provider} A·A⁺·A = A");
            Close.Assert(x, Mul(xa, x), 0, tol * Math.Max(1, Frobenius(x)), $"{provider} A⁺·A·A⁺ = A⁺");
            Close.Assert(T(ax), ax, 0, tol, $"{provider} (A·A⁺)ᵀ = A·A⁺");
            Close.Assert(T(xa), xa, 0, tol, $"{provider} (A⁺·A)ᵀ = A⁺·A");
        }
    }

    [Theory]
    [MemberData(nameof(RankedShapes))]
    public void Rank_KnownRank_CountsTheInnerDimensionFromEverySource(int m, int n, int rank)
    {
        var a = RankedMatrix(m, n, rank, 17 * m + n);
        double tol = Math.Max(m, n) * Math.Pow(2, -52);
        foreach (var provider in new[] { BlasProvider.OpenBlas, BlasProvider.Managed })
        {
            var s = LinearAlgebra.SingularValues(a, provider);
            Assert.Equal(rank, LinearAlgebra.Rank(s, tol));
            Assert.Equal(rank, LinearAlgebra.NumericalRank(a, provider: provider));
            // SingularValues (tall orientation under Managed) and Svd give the same values to rounding.
            Close.Assert(LinearAlgebra.Svd(a, false, provider).Values, s, 0, 10 * Math.Max(m, n) * Eps * Math.Max(1, Frobenius(a)), $"{provider} σ");
        }
    }

    [Theory]
    [MemberData(nameof(Ladder))]
    public void Inverse_WellConditionedMatrix_TimesAIsTheIdentity(int n)
    {
        // A = I + B/(2√n) with B Gaussian: ‖B/(2√n)‖₂ ≈ 1, so A is invertible with a modest condition number.
        var a = OpCheck.RandomTensor(new Random(n + 5), n, n);
        for (int i = 0; i < a.Length; i++) a.Data[i] /= 2 * Math.Sqrt(n);
        for (int i = 0; i < n; i++) a[i, i] += 1;
        var inverse = LinearAlgebra.Inverse(a);
        double kappa = LinearAlgebra.ConditionNumber(a);
        double tol = 100 * n * Eps * kappa;
        Close.Assert(Tensor<double>.Identity(n), Mul(a, inverse), 0, tol, "A·A⁻¹");
        Close.Assert(Tensor<double>.Identity(n), Mul(inverse, a), 0, tol, "A⁻¹·A");
    }

    [Theory]
    [MemberData(nameof(SvdShapes))]
    public void ConditionNumber_MatrixWithChosenSingularValues_IsTheirRatio(int m, int n)
    {
        // A = U·diag(σ)·Vᵀ with orthonormal U, V (from the SVD of Gaussian matrices) and σ_k = 10^(−3k/(r−1)): κ = 1000.
        int r = Math.Min(m, n);
        var rng = new Random(m * 7 + n);
        var (_, u, _) = LinearAlgebra.Svd(OpCheck.RandomTensor(rng, m, r), true);
        var (_, _, vt) = LinearAlgebra.Svd(OpCheck.RandomTensor(rng, r, n), true);
        var sigma = Enumerable.Range(0, r).Select(k => r == 1 ? 1 : Math.Pow(10, -3.0 * k / (r - 1))).ToArray();
        var a = Tensor<double>.Zeros(m, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < r; p++) a[i, j] += u![i, p] * sigma[p] * vt![p, j];
        double expected = sigma[0] / sigma[^1];
        foreach (var provider in new[] { BlasProvider.OpenBlas, BlasProvider.Managed })
            Close.Assert(expected, LinearAlgebra.ConditionNumber(a, provider), 1000 * Math.Max(m, n) * Eps * expected, 0, $"{provider} κ");
        Assert.Equal(double.PositiveInfinity, LinearAlgebra.ConditionNumber(Tensor<double>.Zeros(m, n)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(50)]
    public void ConditionLimitedPseudoInverse_WithinAndBeyondTheLimit_IsMoorePenroseOrTheTikhonovInverse(int n)
    {
        int m = n + 3;
        var a = RankedMatrix(m, n, n, 3 * n);
        double kappa = LinearAlgebra.ConditionNumber(a);
        // Within the limit: exactly the Moore–Penrose inverse.
        var plain = LinearAlgebra.ConditionLimitedPseudoInverse(a, 2 * kappa);
        Assert.False(plain.Damped);
        Assert.Equal(LinearAlgebra.PseudoInverse(a).Matrix.Data, plain.Matrix.Data);
        if (n == 1) return;
        // Beyond it: (AᵀA + λ²I)⁻¹Aᵀ with λ = σ_max/limit, the normal equations of Tikhonov regularisation.
        double limit = Math.Max(1, kappa / 2);
        var damped = LinearAlgebra.ConditionLimitedPseudoInverse(a, limit);
        Assert.True(damped.Damped);
        double lambda = damped.SingularValues[0] / limit;
        Close.Assert(lambda, damped.Damping, 1e-15);
        var normal = Mul(T(a), a);
        for (int i = 0; i < n; i++) normal[i, i] += lambda * lambda;
        var expected = Mul(LinearAlgebra.Inverse(normal), T(a));
        Close.Assert(expected, damped.Matrix, 0, 1000 * m * Eps * kappa * Frobenius(expected), "Tikhonov inverse");
        // The zero matrix has pseudo-inverse zero.
        var zero = LinearAlgebra.ConditionLimitedPseudoInverse(Tensor<double>.Zeros(m, n), 10);
        Assert.All(zero.Matrix.Data, x => Assert.Equal(0, x));
        Assert.Equal(0, zero.Rank);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(50)]
    public void Exponential_TimesExponentialOfMinusA_IsTheIdentity(int n)
    {
        var a = OpCheck.RandomTensor(new Random(n + 11), n, n);
        var product = Mul(LinearAlgebra.Exponential(a), LinearAlgebra.Exponential(a * -1.0));
        Close.Assert(Tensor<double>.Identity(n), product, 0, 1e-10 * n);
        // A diagonal A exponentiates entrywise.
        var d = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++) d[i, i] = 0.3 * i - 1;
        var e = LinearAlgebra.Exponential(d);
        // Squaring k times multiplies the rounding of exp(A/2ᵏ) by up to 2ᵏ: allow 100·n·ε.
        for (int i = 0; i < n; i++) Close.Assert(Math.Exp(0.3 * i - 1), e[i, i], 100 * n * Eps);
    }

    [Theory]
    [MemberData(nameof(Ladder))]
    public void SymmetricAndAntisymmetricParts_AddUpToA(int n)
    {
        var a = OpCheck.RandomTensor(new Random(n), n, n);
        var s = LinearAlgebra.SymmetricPart(a);
        var k = LinearAlgebra.AntisymmetricPart(a);
        Close.Assert(a, s + k, 0, 4 * Eps * a.Data.Max(Math.Abs));
        Assert.Equal(s.Data, T(s).Data);
        Assert.Equal(k.Data, (-T(k)).Data);
        Assert.Equal(TensorOps.MatMul(a, s, transposeB: true).Data, LinearAlgebra.Multiply(a, s, transposeB: true).Data);
    }

    [Fact]
    public void PseudoInverseAndFriends_BadInput_ThrowNamingTheParameter()
    {
        var nan = Tensor<double>.FromArray(new double[,] { { double.NaN, 0 }, { 0, 1 } });
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => LinearAlgebra.PseudoInverse(nan)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => LinearAlgebra.ConditionNumber(Tensor<double>.Zeros(3))).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => LinearAlgebra.Inverse(Tensor<double>.Zeros(2, 3))).ParamName);
        Assert.Equal("relativeTolerance", Assert.Throws<ArgumentOutOfRangeException>(() => LinearAlgebra.Rank([1.0, 0.5], 1.5)).ParamName);
        Assert.Equal("conditionLimit", Assert.Throws<ArgumentOutOfRangeException>(() => LinearAlgebra.ConditionLimitedPseudoInverse(Tensor<double>.Identity(2), 0.5)).ParamName);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 3)]
    [InlineData(10, 10)]
    [InlineData(50, 20)]
    [InlineData(100, 50)]
    public void QrTriangularFactor_TallMatrix_IsUpperTriangularWithRᵀREqualAᵀA(int m, int n)
    {
        var a = OpCheck.RandomTensor(new Random(m * 3 + n), m, n);
        var r = LinearAlgebra.QrTriangularFactor(a);
        Assert.True(r.HasShape(n, n));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) Assert.Equal(0, r[i, j]);
        var gram = Mul(T(a), a);
        Close.Assert(gram, Mul(T(r), r), 0, 10 * m * Eps * gram.Data.Max(Math.Abs));
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => LinearAlgebra.QrTriangularFactor(Tensor<double>.Zeros(2, 3))).ParamName);
    }
}
