using Noether.Autodiff;
using Noether.Conservation;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

/// <summary>The minimum-manifold dimension of the linear two-layer network (Appendix G).</summary>
public class LinearMinimumTests
{
    /// <summary>
    /// The derivation in <see cref="LinearMinimum"/> checked numerically: at an exact global minimum UV = Y of the Fig. 8
    /// shapes (V random, U = Y V⁺ + Z(I − VV⁺)), the full Hessian of ½‖Y − UV‖² has exactly 700 eigenvalues below 1e-9·λ_max
    /// and its other 50 are the sums αᵢ + βⱼ.
    /// </summary>
    [Fact]
    public void LinearMinimum_ExactGlobalMinimum_HessianNullityIsTheFibreDimension()
    {
        var rng = new Random(12);
        int m = 10, h = 50, n = 5;
        var y = Init.Gaussian(Tensor<double>.Zeros(m, n), 1, rng);
        var (u, v) = ExactMinimum(y, h, rng);
        Assert.Equal(700, LinearMinimum.FibreDimension(m, h, n, LinearAlgebra.NumericalRank(u), LinearAlgebra.NumericalRank(v)));
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), h, Tensor<double>.Identity(n), y);
        Assert.True(problem.Loss(u, v) < 1e-24);
        var (values, _) = LinearAlgebra.SymmetricEigen(Hessian.Full(problem.Function(), [u, v]), vectors: false);
        double max = values[^1];
        Assert.Equal(700, values.Count(l => Math.Abs(l) <= 1e-9 * max));
        var curved = values.Where(l => Math.Abs(l) > 1e-9 * max).ToArray();
        Close.Assert(LinearMinimum.GaussNewtonEigenvalues(u, v), curved, 1e-9, 1e-12);
    }

    /// <summary>A rank-deficient minimum, where the (m − r_U)(n − r_V) term matters: m = 4, h = 2, n = 3 gives 2·7 − 12 + 2·1 = 4 = h².</summary>
    [Fact]
    public void LinearMinimum_RankDeficientMinimum_CountsTheCorrectionTerm()
    {
        var rng = new Random(2);
        var u = Init.Gaussian(Tensor<double>.Zeros(4, 2), 1, rng);
        var v = Init.Gaussian(Tensor<double>.Zeros(2, 3), 1, rng);
        var y = TensorOps.MatMul(u, v);
        int dim = LinearMinimum.FibreDimension(4, 2, 3, 2, 2);
        Assert.Equal(4, dim);
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), 2, Tensor<double>.Identity(3), y);
        var (values, _) = LinearAlgebra.SymmetricEigen(Hessian.Full(problem.Function(), [u, v]), vectors: false);
        Assert.Equal(dim, values.Count(l => Math.Abs(l) <= 1e-10 * values[^1]));
    }

    [Fact]
    public void FibreDimension_RanksOutOfRange_Throw()
    {
        Assert.Equal("rankU", Assert.Throws<ArgumentOutOfRangeException>(() => LinearMinimum.FibreDimension(10, 50, 5, 11, 5)).ParamName);
        Assert.Equal("rankV", Assert.Throws<ArgumentOutOfRangeException>(() => LinearMinimum.FibreDimension(10, 50, 5, 10, 6)).ParamName);
    }

    internal static (Tensor<double> U, Tensor<double> V) ExactMinimum(Tensor<double> y, int h, Random rng)
    {
        int m = y.Dim(0), n = y.Dim(1);
        var v = Init.Gaussian(Tensor<double>.Zeros(h, n), 0.5, rng);
        // V⁺ = (VᵀV)⁻¹Vᵀ via the eigendecomposition of the small n×n Gram matrix.
        var (w, q) = LinearAlgebra.SymmetricEigen(TensorOps.MatMul(v, v, transposeA: true));
        var inv = Tensor<double>.Zeros(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) inv[i, j] += q![i, k] * q[j, k] / w[k];
        var pinv = TensorOps.MatMul(inv, v, transposeB: true);                 // n×h
        var proj = TensorOps.MatMul(v, pinv);                                    // h×h, V V⁺
        var z = Init.Gaussian(Tensor<double>.Zeros(m, h), 0.5, rng);
        var comp = TensorOps.Binary(BinaryOp.Subtract, z, TensorOps.MatMul(z, proj));
        var u = TensorOps.Binary(BinaryOp.Add, TensorOps.MatMul(y, pinv), comp);
        return (u, v);
    }
}
