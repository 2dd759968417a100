using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;

namespace Noether.Tests.Nn;

public class TwoLayerKernelTests
{
    public static TheoryData<string, SquaredErrorLoss, bool> Cases()
    {
        var data = new TheoryData<string, SquaredErrorLoss, bool>();
        foreach (var name in new[] { "identity", "relu", "leaky-relu:0.2", "sigmoid", "tanh" })
            foreach (var loss in new[] { SquaredErrorLoss.HalfSum, SquaredErrorLoss.Mean })
                foreach (var whitened in new[] { true, false })
                    data.Add(name, loss, whitened);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossAndGradient_MatchesTape(string name, SquaredErrorLoss loss, bool whitened)
    {
        var sigma = Activation.Parse(name);
        var random = new Random(101);
        const int m = 3, h = 7, n = 4;
        int k = whitened ? n : 6;
        var theta = TwoLayerParameters.Gaussian(random, m, h, n);
        var x = whitened ? Tensor<double>.Identity(n) : Gaussian.Matrix(random, n, k);
        var y = Gaussian.Matrix(random, m, k);
        var kernel = new TwoLayerKernel(sigma, loss, m, h, n, whitened ? null : x, y);
        var flat = GradientFlow.Flatten(theta.AsList());
        var grad = new double[flat.Length];
        double value = kernel.LossAndGradient(flat, grad);
        var tape = new TwoLayerNetwork(sigma, loss).LossAndGradient(theta, x, y);
        Close.Assert(tape.Loss, value, 1e-13);
        Close.Assert(GradientFlow.Flatten(tape.Gradient), grad, 1e-12, 1e-14);
    }
}
