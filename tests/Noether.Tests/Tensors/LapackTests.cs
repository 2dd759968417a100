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
public class LapackTests
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
            var (values, vectors) = Lapack.SymmetricEigen(a, true, provider);
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
            var (valuesOnly, none) = Lapack.SymmetricEigen(a, false, provider);
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
            var (s, u, vt) = Lapack.Svd(a, true, provider);
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
            Close.Assert(s, Lapack.Svd(a, false, provider).Values, 0, tol, $"{provider} values without vectors");
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
        Assert.Equal(rank, Lapack.NumericalRank(a, provider: BlasProvider.OpenBlas));
        Assert.Equal(rank, Lapack.NumericalRank(a, provider: BlasProvider.Managed));
        // An explicit tolerance above every singular value gives rank 0.
        Assert.Equal(0, Lapack.NumericalRank(a, tolerance: 1e6));
    }

    [Fact]
    public void SymmetricEigen_BadInput_ThrowsNamingTheProblem()
    {
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => Lapack.SymmetricEigen(Tensor<double>.Zeros(2, 3))).Message);
        var asymmetric = Tensor<double>.FromArray(new double[,] { { 1, 2 }, { 0, 1 } });
        Assert.Contains("not symmetric", Assert.Throws<ArgumentException>(() => Lapack.SymmetricEigen(asymmetric)).Message);
        var nan = Tensor<double>.FromArray(new double[,] { { double.NaN, 0 }, { 0, 1 } });
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Lapack.SymmetricEigen(nan)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Lapack.Svd(nan)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lapack.NumericalRank(Tensor<double>.Identity(2), -1));
    }
}
