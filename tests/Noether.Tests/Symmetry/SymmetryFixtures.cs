using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Symmetry;

/// <summary>Random problems shared by the symmetry and conservation tests (always from a passed seed).</summary>
public static class SymmetryFixtures
{
    public static Activation[] LinearSymmetricActivations =>
    [
        Activation.Identity, Activation.Relu, Activation.LeakyRelu(0.1), Activation.RadialInverseOnePlusNorm, Activation.RadialInverseSquareNorm,
    ];

    public static (TwoLayerParameters Theta, Tensor<double> X, Tensor<double> Y) Problem(Random random, int m, int h, int n, int k)
    {
        var theta = TwoLayerParameters.Gaussian(random, m, h, n, 1, 1 / Math.Sqrt(n));
        return (theta, Gaussian.Matrix(random, n, k), Gaussian.Matrix(random, m, k));
    }

    /// <summary>max|a − b| / max|b| (0 when both vanish, ∞ when only b does).</summary>
    public static double RelativeMaxError(Tensor<double> a, Tensor<double> b)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(a.Data[i] - b.Data[i]));
            scale = Math.Max(scale, Math.Abs(b.Data[i]));
        }
        return diff == 0 ? 0 : diff / scale;
    }

    public static Tensor<double> MatMul(Tensor<double> a, Tensor<double> b, bool ta = false, bool tb = false) => TensorOps.MatMul(a, b, ta, tb);
}
