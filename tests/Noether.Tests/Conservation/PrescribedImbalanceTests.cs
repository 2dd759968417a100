using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Conservation;

/// <summary>Acceptance: the prescribed-Q initialiser hits its target to ≤ 1e-10.</summary>
public class PrescribedImbalanceTests
{
    private static Tensor<double> Imbalance(TwoLayerParameters p)
    {
        var a = TensorOps.MatMul(p.U, p.U, transposeA: true);
        var b = TensorOps.MatMul(p.V, p.V, transposeB: true);
        for (int i = 0; i < a.Length; i++) a.Data[i] -= b.Data[i];
        return a;
    }

    // Q = O diag(λ) Oᵀ with the given eigenvalues and a random orthogonal O (from a symmetric eigendecomposition).
    private static Tensor<double> WithEigenvalues(Random rng, double[] lambda)
    {
        int h = lambda.Length;
        var g = Gaussian.Matrix(rng, h, h);
        var s = Tensor<double>.Zeros(h, h);
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) s[i, j] = g[i, j] + g[j, i];
        var (_, o) = LinearAlgebra.SymmetricEigen(s);
        var q = Tensor<double>.Zeros(h, h);
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++)
                for (int k = 0; k < h; k++) q[i, j] += o![i, k] * lambda[k] * o[j, k];
        return q;
    }

    [Theory]
    [InlineData(4, 3, new[] { 2.0, -1.5, 0.7, 3.0, -0.2 }, 1.0)]  // h = 5 > m, n: 3 positive ≤ m = 4, 2 negative ≤ n = 3
    [InlineData(10, 5, new[] { 1.0, 2.0, -3.0 }, 0.5)]             // h = 3 < m, n
    [InlineData(2, 2, new[] { 1.0, -1.0, 0.0, 0.0 }, 1.0)]         // singular target, no room for a common part
    [InlineData(3, 3, new[] { 5.0, 0.001, -2.0 }, 0.0)]             // std 0: the minimal pair
    public void Linear_AnyAttainableQ_IsHitTo1e10(int m, int n, double[] lambda, double std)
    {
        var rng = new Random(lambda.Length * 7 + m);
        var q = WithEigenvalues(rng, lambda);
        var theta = PrescribedImbalance.Linear(q, m, n, new Random(3), std);
        Assert.Equal([m, lambda.Length], theta.U.ShapeArray);
        Assert.Equal([lambda.Length, n], theta.V.ShapeArray);
        Close.Assert(q, Imbalance(theta), 0, 1e-10, "UᵀU − VVᵀ");
    }

    [Fact]
    public void Linear_CommonPart_MakesTheProductGeneric()
    {
        var q = WithEigenvalues(new Random(1), [1.0, -1.0, 0.5]);
        var theta = PrescribedImbalance.Linear(q, 6, 6, new Random(2), 1);
        // With r = min(6 − 2, 6 − 1) = 4 random common directions, W = UV has full rank 3 (h = 3).
        Assert.Equal(3, LinearAlgebra.NumericalRank(TensorOps.MatMul(theta.U, theta.V)));
        var minimal = PrescribedImbalance.Linear(q, 6, 6, new Random(2), 0);
        Assert.True(TensorOps.Norm(TensorOps.MatMul(minimal.U, minimal.V)) < 1e-12, "std 0: ranges of P and N are orthogonal, so UV = 0");
    }

    [Fact]
    public void Linear_TooManyPositiveEigenvalues_IsRejectedWithTheReason()
    {
        var q = WithEigenvalues(new Random(1), [1.0, 2.0, 3.0, -1.0]);
        var e = Assert.ThrowsAny<ArgumentException>(() => PrescribedImbalance.Linear(q, 2, 5, new Random(1)));
        Assert.Contains("3 positive eigenvalues", e.Message);
        Assert.Contains("m = 2", e.Message);
        var negative = WithEigenvalues(new Random(1), [1.0, -1.0, -2.0, -3.0]);
        var e2 = Assert.ThrowsAny<ArgumentException>(() => PrescribedImbalance.Linear(negative, 5, 2, new Random(1)));
        Assert.Contains("3 negative eigenvalues", e2.Message);
        Assert.Contains("n = 2", e2.Message);
    }

    [Fact]
    public void Linear_NonSymmetricOrNonFinite_IsRejected()
    {
        var q = Tensor<double>.Zeros(2, 2);
        q[0, 1] = 1;
        Assert.Contains("not symmetric", Assert.ThrowsAny<ArgumentException>(() => PrescribedImbalance.Linear(q, 3, 3, new Random(1))).Message);
        q[0, 1] = double.NaN;
        Assert.Contains("non-finite", Assert.ThrowsAny<ArgumentException>(() => PrescribedImbalance.Linear(q, 3, 3, new Random(1))).Message);
    }

    [Fact]
    public void Diagonal_AnyTarget_IsHitTo1e10()
    {
        double[] target = [-3, -0.1, 0, 0.2, 5, 40];
        var theta = PrescribedImbalance.Diagonal(target, 4, 3, new Random(5), 0.3, 0.9);
        var q = Imbalance(theta);
        for (int a = 0; a < target.Length; a++) Close.Assert(target[a], q[a, a], 0, 1e-10, $"q[{a}]");
        Assert.ThrowsAny<ArgumentException>(() => PrescribedImbalance.Diagonal([1, double.PositiveInfinity], 2, 2, new Random(1)));
    }
}
