using Noether.Autodiff;
using Noether.Landscape;
using Noether.Nn;
using Noether.Tensors;

namespace Noether.Tests.Landscape;

/// <summary>The Fig. 8 network (m = 10, h = 50, n = 5, X = I₅), briefly trained, for Hessian tests.</summary>
internal static class SharpnessFixtures
{
    public static (HessianOperator<double> Hessian, TwoLayerProblem Problem) TrainedNetworkHessian(ActivationKind activation, int steps, int seed = 5, double std = 0.3)
    {
        var rng = new Random(seed);
        var y = Init.Gaussian(Tensor<double>.Zeros(10, 5), 1, rng);
        var problem = new TwoLayerProblem(new TwoLayerNetwork(Activation.Of(activation, Activation.PyTorchLeakySlope), SquaredErrorLoss.HalfSum), 50, Tensor<double>.Identity(5), y);
        var (u, v) = problem.Initialise(std, std, rng);
        TwoLayerDescent.Run(problem, u, v, new DescentOptions(0.01, steps));
        return (new HessianOperator<double>(problem.Function(), [u, v]), problem);
    }
}
