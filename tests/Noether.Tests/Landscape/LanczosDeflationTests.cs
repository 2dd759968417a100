using Noether.Landscape;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>Restarted, deflated Lanczos checked against LAPACK's dense eigendecomposition.</summary>
public class LanczosDeflationTests
{
    [Theory]
    [InlineData(SpectrumEnd.Largest)]
    [InlineData(SpectrumEnd.Smallest)]
    [InlineData(SpectrumEnd.LargestMagnitude)]
    public void RestartedEigenvalues_SmallBasisOnRandomMatrix_MatchLapackAndRestart(SpectrumEnd end)
    {
        int n = 150, k = 5;
        var a = LanczosTests.RandomSymmetric(n, new Random(11));
        var (exact, _) = LinearAlgebra.SymmetricEigen(a, vectors: false);
        var op = SymmetricOperator.FromMatrix(a);
        var r = Lanczos.RestartedEigenvalues(op, k, new Random(12), end, basisSize: 20, maxRestarts: 500);
        Assert.True(r.Converged);
        Assert.True(r.Restarts > 0, "a 20-vector basis must restart to resolve 5 eigenvalues of a random 150×150 matrix");
        var expected = (end switch
        {
            SpectrumEnd.Largest => exact.Reverse(),
            SpectrumEnd.Smallest => exact.AsEnumerable(),
            _ => exact.OrderByDescending(Math.Abs),
        }).Take(k).ToArray();
        double scale = exact.Max(Math.Abs);
        // Locked at relative residual 1e-10, so each value is within 1e-10·‖A‖ of an eigenvalue (the gap makes it the right one).
        Close.Assert(expected, r.Values, 0, 1e-8 * scale, end.ToString());
        AssertOrthonormalPairs(op, r);
    }

    [Fact]
    public void RestartedEigenvalues_MinibatchModelHessian_MatchDenseEigensolverTo1e8()
    {
        var (model, batches, all, labels) = CurvatureFixtures.Mlp(5);
        var h = MinibatchHessian.ForModel(model, batches);
        // The independent reference: the full Hessian of the loss over all 32 points at once (HessianOperator.Full).
        var dense = ModelHessian.CrossEntropy(model, all, labels).Full();
        var (exact, _) = LinearAlgebra.SymmetricEigen(dense, vectors: false);
        int k = 4;
        var r = Lanczos.RestartedEigenvalues(h.Mean(), k, new Random(6), basisSize: 10, maxRestarts: 200);
        Assert.True(r.Converged);
        var expected = exact.Reverse().Take(k).ToArray();
        for (int i = 0; i < k; i++)
            Assert.True(Math.Abs(r.Values[i] - expected[i]) <= 1e-8 * Math.Abs(expected[i]), $"λ{i}: {r.Values[i]:R} vs dense {expected[i]:R}");
        AssertOrthonormalPairs(h.Mean(), r);
    }

    private static void AssertOrthonormalPairs(SymmetricOperator op, RestartedLanczosResult r)
    {
        int n = op.Dimension, k = r.Values.Length;
        var ay = new double[n];
        for (int i = 0; i < k; i++)
        {
            var yi = r.Vectors.Data.AsSpan(i * n, n).ToArray();
            for (int j = 0; j <= i; j++)
            {
                double dot = yi.Zip(r.Vectors.Data.AsSpan(j * n, n).ToArray(), (x, y) => x * y).Sum();
                Close.Assert(i == j ? 1 : 0, dot, 0, 1e-10, $"y{i}·y{j}");
            }
            op.Multiply(yi, ay);
            double res = Math.Sqrt(ay.Select((x, j) => (x - r.Values[i] * yi[j]) * (x - r.Values[i] * yi[j])).Sum());
            // The reported residual is measured the same way (one more product); a different rounding order only.
            Close.Assert(res, r.Residuals[i], 1e-6, 1e-14 * r.Values.Max(Math.Abs), $"residual {i}");
        }
    }

    [Fact]
    public void RestartedEigenvalues_BadInput_RefusedNamingTheParameter()
    {
        var op = SymmetricOperator.FromMatrix(LanczosTests.RandomSymmetric(6, new Random(1)));
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.RestartedEigenvalues(op, 6, new Random(1))).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.RestartedEigenvalues(op, 0, new Random(1))).ParamName);
        Assert.Equal("basisSize", Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.RestartedEigenvalues(op, 1, new Random(1), basisSize: -1)).ParamName);
        Assert.Equal("tolerance", Assert.Throws<ArgumentOutOfRangeException>(() => Lanczos.RestartedEigenvalues(op, 1, new Random(1), tolerance: 0)).ParamName);
    }
}
