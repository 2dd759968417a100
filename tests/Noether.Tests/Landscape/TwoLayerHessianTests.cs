using Noether.Landscape;
using Noether.Nn;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape;

public class TwoLayerHessianTests
{
    /// <summary>λ_max by Lanczos on Hessian-vector products (above the full-Hessian limit) agrees with the full Hessian's.</summary>
    [Fact]
    public void Sharpness_LanczosAndFullHessian_Agree()
    {
        var (problem, theta) = TeleportTests.Trained(ActivationKind.Identity, 5, 6, 4, 2);
        double full = TwoLayerHessian.Sharpness(problem, theta);
        double lanczos = TwoLayerHessian.Sharpness(problem, theta, fullHessianLimit: 10);
        Close.Assert(full, lanczos, 1e-8, 0, "λ_max");
        Close.Assert(TwoLayerHessian.Spectrum(problem, theta)[^1], full, 1e-12, 0, "spectrum maximum");
    }

    [Fact]
    public void Spectrum_TooManyParameters_Throws()
    {
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum), 60, Noether.Tensors.Tensor<double>.Identity(50), Noether.Tensors.Tensor<double>.Zeros(50, 50));
        var theta = new TwoLayerParameters(Noether.Tensors.Tensor<double>.Zeros(50, 60), Noether.Tensors.Tensor<double>.Zeros(60, 50));
        Assert.Equal("parameters", Assert.ThrowsAny<ArgumentOutOfRangeException>(() => TwoLayerHessian.Spectrum(problem, theta)).ParamName);
    }
}
