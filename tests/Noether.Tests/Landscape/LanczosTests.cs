using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Lanczos eigenvalues checked against LAPACK's full symmetric eigendecomposition of the same matrix.</summary>
public class LanczosTests
{
    internal static Tensor<double> RandomSymmetric(int n, Random rng)
    {
        var a = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i, j] = a[j, i] = rng.NextDouble() * 2 - 1;
        return a;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(120)]
    public void Eigenvalues_RandomSymmetricMatrix_MatchLapackAtEachEnd(int n)
    {
        var rng = new Random(n);
        var a = RandomSymmetric(n, rng);
        var (exact, _) = LinearAlgebra.SymmetricEigen(a, vectors: false);
        int k = Math.Min(3, n);
        var op = SymmetricOperator.FromMatrix(a);
        var top = Lanczos.Eigenvalues(op, k, new Random(1), SpectrumEnd.Largest, maxIterations: n);
        var bottom = Lanczos.Eigenvalues(op, k, new Random(2), SpectrumEnd.Smallest, maxIterations: n);
        var magnitude = Lanczos.Eigenvalues(op, k, new Random(3), SpectrumEnd.LargestMagnitude, maxIterations: n);
        double scale = exact.Max(Math.Abs);
        // Converged Ritz values are within their residual of an eigenvalue; 1e-9·‖A‖ is far above rounding (1e-15·n).
        Close.Assert(exact.Reverse().Take(k).ToArray(), top.Values, 0, 1e-9 * scale, "largest");
        Close.Assert(exact.Take(k).ToArray(), bottom.Values, 0, 1e-9 * scale, "smallest");
        Close.Assert(exact.OrderByDescending(Math.Abs).Take(k).ToArray(), magnitude.Values, 0, 1e-9 * scale, "largest magnitude");
    }

    [Fact]
    public void Eigenvalues_Vectors_SatisfyTheEigenEquationToTheirResidual()
    {
        var a = RandomSymmetric(80, new Random(7));
        var op = SymmetricOperator.FromMatrix(a);
        var r = Lanczos.Eigenvalues(op, 4, new Random(8), vectors: true);
        Assert.True(r.Converged);
        for (int i = 0; i < 4; i++)
        {
            var y = r.Vectors!.Data.AsSpan(i * 80, 80).ToArray();
            var ay = new double[80];
            op.Multiply(y, ay);
            double res = Math.Sqrt(ay.Select((x, j) => (x - r.Values[i] * y[j]) * (x - r.Values[i] * y[j])).Sum());
            Close.Assert(1, Math.Sqrt(y.Sum(x => x * x)), 0, 1e-12, "unit norm");
            // The computed residual β|s| equals the true one up to the loss of orthogonality, which full reorthogonalisation keeps near rounding.
            Assert.True(res <= r.Residuals[i] + 1e-10, $"pair {i}: true residual {res:E3} vs reported {r.Residuals[i]:E3}");
        }
    }

    [Fact]
    public void Eigenvalues_LowRankOperator_FindsTheNonzeroEigenvaluesDespiteBreakdown()
    {
        // A = Σ dᵢ xᵢxᵢᵀ with 4 terms in dimension 30: the Krylov space closes after 5 steps (4 values and 0).
        var rng = new Random(3);
        int n = 30;
        var a = Tensor<double>.Zeros(n, n);
        double[] d = [5, 3, -2, 1];
        var q = LinearAlgebra.SymmetricEigen(RandomSymmetric(n, rng)).Vectors!;
        for (int t = 0; t < d.Length; t++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i, j] += d[t] * q[i, t] * q[j, t];
        var r = Lanczos.Eigenvalues(SymmetricOperator.FromMatrix(a), 3, new Random(4));
        Close.Assert([5, 3, 1], r.Values, 0, 1e-10);
    }

    [Fact]
    public void Eigenvalues_MoreThanTheDimension_ThrowsNamingTheDimension()
    {
        var op = SymmetricOperator.FromMatrix(Tensor<double>.Identity(4));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.Eigenvalues(op, 5, new Random(0)));
        Assert.Contains("dimension 4", e.Message);
        Assert.Contains("count = 5", e.Message); // names both k and n
        Assert.Equal("count", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.Eigenvalues(op, 0, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.Eigenvalues(op, 1, new Random(0), tolerance: 0));
    }

    /// <summary>
    /// Acceptance: on the 750-parameter network of Fig. 8 (U 10×50, V 50×5, tanh, after 300 GD steps), the top Lanczos
    /// eigenvalue equals the largest eigenvalue of the full Hessian to 1e-6 relative.
    /// </summary>
    [Fact]
    public void Eigenvalues_750ParameterNetwork_TopMatchesFullSpectrumMaximum()
    {
        var (hessian, _) = SharpnessFixtures.TrainedNetworkHessian(ActivationKind.Tanh, steps: 300);
        Assert.Equal(750, hessian.Dimension);
        var (exact, _) = LinearAlgebra.SymmetricEigen(hessian.Full(), vectors: false);
        var op = SymmetricOperator.FromHessian(hessian);
        var r = Lanczos.Eigenvalues(op, 1, new Random(11));
        Assert.True(r.Converged);
        Close.Assert(exact[^1], r.Values[0], 1e-6, 0, "λ_max");
        Assert.Equal(r.Iterations, op.Products);
    }
}
