using Noether.Autodiff;
using Noether.Experiments;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Landscape.Experiments;

public class SharpnessEstimateTests
{
    [Fact]
    public void Run_SmallNetwork_AgreesWithTheFullSpectrum()
    {
        var rng = new Random(1);
        var y = Init.Gaussian(Tensor<double>.Zeros(4, 3), 1, rng);
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum), 6, Tensor<double>.Identity(3), y);
        var (u, v) = problem.Initialise(0.5, 0.5, rng);
        var hessian = new HessianOperator<double>(problem.Function(), [u, v]);
        var (exact, _) = LinearAlgebra.SymmetricEigen(hessian.Full(), vectors: false);
        var r = SharpnessEstimate.Run(hessian, new SharpnessEstimateSettings(TopK: 3, TraceProbes: 400, DensityProbes: 4, DensitySteps: 10));
        Assert.Equal(42, r.Parameters);
        Assert.True(r.LanczosConverged);
        Close.Assert(exact.Reverse().Take(3).ToArray(), r.TopEigenvalues, 1e-7, 1e-10);
        // Hutchinson: within 4 reported standard errors of the exact trace.
        Assert.True(Math.Abs(r.Trace!.Trace - exact.Sum()) <= 4 * r.Trace.StandardError, $"trace {r.Trace.Trace} ± {r.Trace.StandardError} vs {exact.Sum()}");
        Assert.Equal(4, r.Density!.Probes);
        Assert.Equal(r.LanczosIterations + 400 + 4 * 10, r.HessianVectorProducts);
    }

    [Fact]
    public void Run_MoreEigenvaluesThanParameters_ThrowsNamingTheCount()
    {
        var op = SymmetricOperator.FromMatrix(Tensor<double>.Identity(5));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SharpnessEstimate.Run(op, new SharpnessEstimateSettings(TopK: 6)));
        Assert.Contains("5", e.Message);
    }
}
