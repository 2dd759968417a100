using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Tensors;

/// <summary>
/// Noether's own symmetric eigenvalue path: the multi-threaded Householder tridiagonalisation and the tridiagonal
/// eigenvalue solvers (LAPACK dsterf_ and the managed QL). Checked against closed forms — matrices built as Q·diag(λ)·Qᵀ
/// with a random orthogonal Q and a chosen spectrum, the 1-2-1 Toeplitz matrix — against the invariants of an orthogonal
/// similarity (trace and Frobenius norm of T equal A's), and against LAPACK's dsyevd_ and MathNet. The tolerance is the
/// backward-stability bound of Householder reduction, 10·n·ε·‖A‖_F: by Weyl's inequality no eigenvalue moves further.
/// Sizes cross the 16-column panel and chunk boundaries, and thread counts above the machine's cores are used on purpose
/// (the ownership pattern and the barriers must not depend on how many cores there are).
/// </summary>
public class TridiagonalizationTests
{
    private const double Eps = 2.220446049250313e-16;

    /// <summary>A random orthogonal matrix: the Q factor of a Gaussian matrix (MathNet's QR).</summary>
    private static Matrix<double> RandomOrthogonal(int n, Random random)
    {
        var g = Matrix<double>.Build.Dense(n, n, (_, _) => Gaussian(random));
        return g.QR().Q;
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>A = Q·diag(λ)·Qᵀ, symmetrised exactly.</summary>
    private static Tensor<double> WithSpectrum(double[] lambda, Random random)
    {
        int n = lambda.Length;
        var q = RandomOrthogonal(n, random);
        var m = q * Matrix<double>.Build.DenseOfDiagonalArray(lambda) * q.Transpose();
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i, j] = 0.5 * (m[i, j] + m[j, i]);
        return a;
    }

    /// <summary>A spectrum with the features of a Hessian at a minimum: a cluster of zeros, a repeated value, both signs.</summary>
    private static double[] HessianLikeSpectrum(int n, Random random)
    {
        var lambda = new double[n];
        for (int i = 0; i < n; i++)
            lambda[i] = (i % 5) switch
            {
                0 or 1 => 0,
                2 => 1.5,
                _ => 4 * Gaussian(random),
            };
        return lambda;
    }

    private static double Frobenius(Tensor<double> a) => Math.Sqrt(a.Data.Sum(x => x * x));

    private static double[] Eigenvalues(Tensor<double> a, BlasProvider provider, int threads) => Lapack.TridiagonalEigenvalues(a, provider, threads);

    public static TheoryData<int, int> SizesAndThreads => new()
    {
        { 1, 1 }, { 2, 2 }, { 3, 1 }, { 15, 2 }, { 16, 1 }, { 17, 2 }, { 31, 3 }, { 32, 2 }, { 33, 2 }, { 48, 4 },
        { 100, 1 }, { 100, 2 }, { 100, 3 }, { 193, 2 }, { 257, 2 }, { 257, 5 },
    };

    [Theory]
    [MemberData(nameof(SizesAndThreads))]
    public void Eigenvalues_OfQDiagLambdaQt_AreLambda_WithEitherTridiagonalSolver(int n, int threads)
    {
        var random = new Random(1000 + n);
        var lambda = HessianLikeSpectrum(n, random);
        var a = WithSpectrum(lambda, random);
        double tol = 10 * n * Eps * Frobenius(a);
        var expected = lambda.Order().ToArray();
        Close.Assert(expected, Eigenvalues(a, BlasProvider.Auto, threads), 0, tol, $"n = {n}, {threads} threads, dsterf");
        Close.Assert(expected, Eigenvalues(a, BlasProvider.Managed, threads), 0, tol, $"n = {n}, {threads} threads, managed QL");
    }

    [Theory]
    [InlineData(40, 1)]
    [InlineData(97, 2)]
    [InlineData(130, 3)]
    [InlineData(200, 2)]
    public void Reduction_IsAnOrthogonalSimilarity_TraceAndFrobeniusNormKept(int n, int threads)
    {
        var random = new Random(n);
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i, j] = a[j, i] = Gaussian(random);
        var work = new double[n * n + 8];
        a.Data.CopyTo(work, 0);
        var d = new double[n];
        var e = new double[n - 1];
        Tridiagonalization.Reduce(work, n, d, e, threads);
        double trace = 0, frobenius2 = 0;
        for (int i = 0; i < n; i++) trace += a[i, i];
        foreach (var x in a.Data) frobenius2 += x * x;
        double norm = Math.Sqrt(frobenius2);
        Close.Assert(trace, d.Sum(), 0, 10 * n * Eps * norm, "trace(T) = trace(A)");
        Close.Assert(frobenius2, d.Sum(x => x * x) + 2 * e.Sum(x => x * x), 0, 10 * n * Eps * frobenius2, "‖T‖_F² = ‖A‖_F²");
    }

    [Theory]
    [InlineData(150)]
    [InlineData(300)]
    public void Eigenvalues_MatchLapackDsyevdAndMathNet_OnRandomSymmetricMatrices(int n)
    {
        var random = new Random(7 * n);
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i, j] = a[j, i] = Gaussian(random);
        double tol = 10 * n * Eps * Frobenius(a);
        var mathNet = Matrix<double>.Build.Dense(n, n, (i, j) => a[i, j]).Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).Order().ToArray();
        var ours = LinearAlgebra.SymmetricEigen(a, vectors: false).Values;
        Close.Assert(mathNet, ours, 0, tol, "Auto vs MathNet");
        if (LinearAlgebra.NativeAvailable) Close.Assert(LinearAlgebra.SymmetricEigen(a, false, BlasProvider.OpenBlas).Values, ours, 0, tol, "Auto vs dsyevd_");
    }

    [Fact]
    public void Eigenvalues_OfStructuredMatrices_AreExact()
    {
        // Zero and diagonal matrices: every reflector is the identity (τ = 0), and T = A's diagonal.
        foreach (int threads in new[] { 1, 2 })
        {
            Assert.All(Eigenvalues(Tensor<double>.Zeros(70, 70), BlasProvider.Auto, threads), x => Assert.Equal(0, x));
            var diagonal = Tensor<double>.Zeros(70, 70);
            for (int i = 0; i < 70; i++) diagonal[i, i] = 70 - 2 * i;
            Assert.Equal(Enumerable.Range(0, 70).Select(i => 70.0 - 2 * i).Order(), Eigenvalues(diagonal, BlasProvider.Managed, threads));
            // Rank one, u uᵀ with ‖u‖² = Σ i² : one eigenvalue ‖u‖², the rest zero.
            int n = 90;
            var rankOne = Tensor<double>.Zeros(n, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    rankOne[i, j] = (i + 1.0) * (j + 1.0);
            double norm2 = Enumerable.Range(1, n).Sum(i => (double)i * i);
            var values = Eigenvalues(rankOne, BlasProvider.Auto, threads);
            double tol = 10 * n * Eps * norm2;
            Close.Assert(norm2, values[^1], 0, tol, "rank one: the nonzero eigenvalue");
            for (int i = 0; i < n - 1; i++) Close.Assert(0, values[i], 0, tol, $"rank one: eigenvalue {i}");
        }
    }

    [Theory]
    [InlineData(1e-305)]
    [InlineData(1e-200)]
    [InlineData(1e200)]
    [InlineData(1e306)]
    public void Eigenvalues_OfExtremelyScaledMatrices_ScaleWithThem(double scale)
    {
        var random = new Random(3);
        var lambda = HessianLikeSpectrum(60, random);
        var a = WithSpectrum(lambda, random);
        var scaled = Tensor<double>.Zeros(60, 60);
        for (int i = 0; i < a.Data.Length; i++) scaled.Data[i] = a.Data[i] * scale;
        var values = LinearAlgebra.SymmetricEigen(scaled, vectors: false).Values;
        double tol = 10 * 60 * Eps * Frobenius(a);
        Close.Assert(lambda.Order().ToArray(), values.Select(x => x / scale).ToArray(), 0, tol, $"eigenvalues / {scale:G}");
    }

    [Fact]
    public void Eigenvalues_WithSubnormalEntries_StayFinite()
    {
        // I₃ + δ(e₁e₃ᵀ + e₃e₁ᵀ), δ = 1e-310: the first column's part below the subdiagonal is subnormal (its square is 0).
        var a = Tensor<double>.Identity(3);
        a[0, 2] = a[2, 0] = 1e-310;
        foreach (var provider in new[] { BlasProvider.Auto, BlasProvider.Managed })
            Close.Assert([1, 1, 1], LinearAlgebra.SymmetricEigen(a, false, provider).Values, 0, 4 * Eps, $"{provider}: I + subnormal");
        // Entirely subnormal matrices: [[δ]] and [[0, δ], [δ, 0]] (eigenvalues ±δ).
        var single = Tensor<double>.Zeros(1, 1);
        single[0, 0] = 1e-310;
        Assert.Equal(1e-310, LinearAlgebra.SymmetricEigen(single, vectors: false).Values[0]);
        var pair = Tensor<double>.Zeros(2, 2);
        pair[0, 1] = pair[1, 0] = 1e-310;
        Close.Assert([-1e-310, 1e-310], LinearAlgebra.SymmetricEigen(pair, vectors: false).Values, 1e-14, 0, "±δ");
    }

    [Fact]
    public void Eigenvalues_OfABlockDiagonalMatrix_SplitInsideAPanel_AreBothBlocksSpectra()
    {
        // Blocks of 37 and 60 rows: reducing column 36 (inside the panel 32–47) finds nothing below the subdiagonal (τ = 0)
        // between columns with ordinary reflectors, on several threads.
        var random = new Random(11);
        var l1 = HessianLikeSpectrum(37, random);
        var l2 = HessianLikeSpectrum(60, random);
        var b1 = WithSpectrum(l1, random);
        var b2 = WithSpectrum(l2, random);
        int n = 97;
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < 37; i++)
            for (int j = 0; j < 37; j++) a[i, j] = b1[i, j];
        for (int i = 0; i < 60; i++)
            for (int j = 0; j < 60; j++) a[37 + i, 37 + j] = b2[i, j];
        var expected = l1.Concat(l2).Order().ToArray();
        double tol = 10 * n * Eps * Frobenius(a);
        foreach (int threads in new[] { 1, 2, 3 })
            Close.Assert(expected, Eigenvalues(a, BlasProvider.Auto, threads), 0, tol, $"{threads} threads");
    }

    [Fact]
    public void Eigenvalues_AboveTheParallelOrder_ThroughThePublicApi_AreTheSpectrum()
    {
        // The configuration that ships: n ≥ ParallelOrder, default thread count (the machine's cores, up to 8).
        int n = Tridiagonalization.ParallelOrder + 52;
        var random = new Random(5);
        var lambda = HessianLikeSpectrum(n, random);
        var a = WithSpectrum(lambda, random);
        Close.Assert(lambda.Order().ToArray(), LinearAlgebra.SymmetricEigen(a, vectors: false).Values, 0, 10 * n * Eps * Frobenius(a), $"n = {n}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(50)]
    [InlineData(400)]
    public void TridiagonalSolvers_On121Toeplitz_GiveTheClosedForm(int n)
    {
        // tridiag(−1, 2, −1) has eigenvalues 2 − 2·cos(kπ/(n+1)), k = 1..n.
        var expected = Enumerable.Range(1, n).Select(k => 2 - 2 * Math.Cos(k * Math.PI / (n + 1))).Order().ToArray();
        foreach (bool native in LinearAlgebra.NativeAvailable ? new[] { true, false } : [false])
        {
            var d = Enumerable.Repeat(2.0, n).ToArray();
            var e = Enumerable.Repeat(-1.0, Math.Max(1, n - 1)).ToArray();
            Close.Assert(expected, TridiagonalEigenvalues.Compute(d, e, native), 0, 10 * n * Eps * 4, native ? "dsterf_" : "managed QL");
        }
    }

    [Fact]
    public void ManagedQL_OnASplitTridiagonal_SolvesEachBlock()
    {
        // Two 1-2-1 blocks (sizes 30 and 45) joined by a zero coupling: the union of the two closed forms.
        int n1 = 30, n2 = 45, n = n1 + n2;
        var d = Enumerable.Repeat(2.0, n).ToArray();
        var e = Enumerable.Repeat(-1.0, n - 1).ToArray();
        e[n1 - 1] = 0;
        var expected = Enumerable.Range(1, n1).Select(k => 2 - 2 * Math.Cos(k * Math.PI / (n1 + 1)))
            .Concat(Enumerable.Range(1, n2).Select(k => 2 - 2 * Math.Cos(k * Math.PI / (n2 + 1)))).Order().ToArray();
        Close.Assert(expected, TridiagonalEigenvalues.Compute(d, e, native: false), 0, 10 * n * Eps * 4);
    }

    [Fact]
    public void Eigenvalues_OfRandomSpectra_AnySizeAndThreadCount_AreTheSpectrum()
    {
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 90], Gen.Int[1, 4]).Sample((seed, n, threads) =>
        {
            var random = new Random(seed);
            var lambda = HessianLikeSpectrum(n, random);
            var a = WithSpectrum(lambda, random);
            var values = Eigenvalues(a, BlasProvider.Auto, threads);
            double tol = 10 * n * Eps * Frobenius(a);
            for (int i = 0; i < n; i++)
                if (!(Math.Abs(values[i] - lambda.Order().ElementAt(i)) <= tol)) return false;
            return true;
        }, iter: 60);
    }
}
