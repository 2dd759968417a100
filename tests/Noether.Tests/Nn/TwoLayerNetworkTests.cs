using Noether.Autodiff;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;
using Noether.Tests.Symmetry;

namespace Noether.Tests.Nn;

public class TwoLayerNetworkTests
{
    [Theory]
    [InlineData("identity", SquaredErrorLoss.HalfSum)]
    [InlineData("tanh", SquaredErrorLoss.HalfSum)]
    [InlineData("sigmoid", SquaredErrorLoss.Mean)]
    [InlineData("radial", SquaredErrorLoss.HalfSum)]
    public void TwoLayer_Gradient_MatchesFiniteDifference(string activation, SquaredErrorLoss loss)
    {
        var net = new TwoLayerNetwork(Activation.Parse(activation), loss);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(11), 3, 4, 5, 6);
        ScalarFunction<double> f = (tape, p) => net.Loss(p[0], p[1], tape.Constant(x), tape.Constant(y));
        var fd = FiniteDifference.Gradient(f, theta.AsList(), 1e-6).SelectMany(g => g).ToArray();
        var g = net.LossAndGradient(theta, x, y).Gradient.SelectMany(t => t.Data).ToArray();
        Close.Assert(fd, g, 1e-6, 1e-8);
    }

    // docs/spec-corrections.md: GD on the mean loss ‖Y − F‖²/(m·k) at lr follows GD on ½‖Y − F‖² at 2·lr/(m·k), because
    // ∇(‖Y − F‖²/(m·k)) = (2/(m·k)) ∇(½‖Y − F‖²): checked on the gradients, then the corrections page's number for Fig. 8
    // (m = 10, k = n = 5, lr 0.1) against that factor.
    [Fact]
    public void MeanLoss_Gradient_IsTwoOverMkTimesTheHalfSums_AsTheCorrectionsPageSays()
    {
        const int m = 10, h = 7, n = 5, k = 5;
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(5), m, h, n, k);
        var mean = new TwoLayerNetwork(Activation.Parse("tanh"), SquaredErrorLoss.Mean).LossAndGradient(theta, x, y).Gradient.SelectMany(t => t.Data).ToArray();
        var half = new TwoLayerNetwork(Activation.Parse("tanh"), SquaredErrorLoss.HalfSum).LossAndGradient(theta, x, y).Gradient.SelectMany(t => t.Data).ToArray();
        Close.Assert(mean, half.Select(g => 2.0 / (m * k) * g).ToArray(), 1e-12, 1e-15);
        string corrections = File.ReadAllText(Path.Combine(Cli.Report.ReportAssertions.RepositoryRoot(), "docs", "spec-corrections.md"));
        double fig8 = 2 * 0.1 / (10 * 5);
        Assert.Contains("the same trajectory needs 2·lr / (m·k)", corrections, StringComparison.Ordinal);
        Assert.Contains($"Fig. 8's 0.1 becomes {fig8.ToString(System.Globalization.CultureInfo.InvariantCulture)}.", corrections, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoLayer_Loss_EqualsHalfSquaredResidual()
    {
        var net = new TwoLayerNetwork(Activation.Tanh, SquaredErrorLoss.HalfSum);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(12), 3, 4, 5, 6);
        var z = SymmetryFixtures.MatMul(theta.V, x);
        double expected = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 6; j++)
            {
                double f = 0;
                for (int a = 0; a < 4; a++) f += theta.U[i, a] * Math.Tanh(z[a, j]);
                expected += 0.5 * (y[i, j] - f) * (y[i, j] - f);
            }
        Close.Assert(expected, net.Loss(theta, x, y), 1e-13);
    }

    [Fact]
    public void Multilayer_TwoLayers_MatchesTwoLayerNetwork()
    {
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(13), 3, 4, 5, 6);
        var two = new TwoLayerNetwork(Activation.Relu, SquaredErrorLoss.HalfSum);
        var multi = new MultilayerNetwork([5, 4, 3], Activation.Relu, SquaredErrorLoss.HalfSum);
        var a = two.LossAndGradient(theta, x, y);
        var b = multi.LossAndGradient([theta.V, theta.U], x, y);
        Close.Assert(a.Loss, b.Loss, 1e-14);
        Close.Assert(a.Gradient[0], b.Gradient[1], 1e-14);
        Close.Assert(a.Gradient[1], b.Gradient[0], 1e-14);
    }

    [Fact]
    public void Multilayer_Gradient_MatchesFiniteDifference()
    {
        var random = new Random(14);
        var net = new MultilayerNetwork([4, 5, 3, 2], Activation.Tanh, SquaredErrorLoss.HalfSum);
        var w = net.RandomWeights(random, 0.7);
        var x = Gaussian.Matrix(random, 4, 6);
        var y = Gaussian.Matrix(random, 2, 6);
        ScalarFunction<double> f = (tape, p) =>
        {
            var fx = net.Output(p, tape.Constant(x));
            return Ops.Scale(Ops.Sum(Ops.Square(Ops.Subtract(tape.Constant(y), fx))), 0.5);
        };
        var fd = FiniteDifference.Gradient(f, w, 1e-6).SelectMany(g => g).ToArray();
        var g = net.LossAndGradient(w, x, y).Gradient.SelectMany(t => t.Data).ToArray();
        Close.Assert(fd, g, 1e-6, 1e-8);
    }

    [Fact]
    public void TwoLayer_MismatchedShapes_ThrowNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new TwoLayerParameters(Tensor<double>.Zeros(3, 4), Tensor<double>.Zeros(5, 2)));
        Assert.Contains("3×4", e.Message);
        Assert.Contains("5×2", e.Message);
        var net = new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum);
        var theta = new TwoLayerParameters(Tensor<double>.Zeros(3, 4), Tensor<double>.Zeros(4, 2));
        Assert.Throws<ArgumentException>(() => net.Loss(theta, Tensor<double>.Zeros(3, 5), Tensor<double>.Zeros(3, 5)));
        Assert.Throws<ArgumentException>(() => net.Loss(theta, Tensor<double>.Zeros(2, 5), Tensor<double>.Zeros(3, 4)));
    }

    [Fact]
    public void Multilayer_WrongWeightShape_Throws()
    {
        var net = new MultilayerNetwork([4, 5, 3], Activation.Tanh, SquaredErrorLoss.HalfSum);
        var e = Assert.Throws<ArgumentException>(() => net.Loss([Tensor<double>.Zeros(5, 4), Tensor<double>.Zeros(3, 4)], Tensor<double>.Zeros(4, 2), Tensor<double>.Zeros(3, 2)));
        Assert.Contains("W2", e.Message);
    }
}
