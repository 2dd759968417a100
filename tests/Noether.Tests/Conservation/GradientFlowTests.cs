using Noether.Conservation;
using Noether.Nn;
using Noether.Tensors;
using Noether.Tests.Support;
using Noether.Tests.Symmetry;

namespace Noether.Tests.Conservation;

public class GradientFlowTests
{
    // L = ½ Σ a_i θ_i²: the flow is θ_i(t) = θ_i(0) e^{−a_i t}.
    private static readonly double[] Rates = [0.3, 1.0, 2.5, 7.0];

    private static LossGradient Quadratic(IReadOnlyList<Tensor<double>> theta)
    {
        var g = Tensor<double>.Zeros(Rates.Length);
        double loss = 0;
        for (int i = 0; i < Rates.Length; i++)
        {
            g[i] = Rates[i] * theta[0][i];
            loss += 0.5 * Rates[i] * theta[0][i] * theta[0][i];
        }
        return new LossGradient(loss, [g]);
    }

    [Theory]
    [InlineData(GradientFlowMethod.DormandPrince45, 1e-9)]
    [InlineData(GradientFlowMethod.RungeKutta4, 1e-9)]
    public void Integrate_DiagonalQuadratic_MatchesExponentialDecay(GradientFlowMethod method, double tolerance)
    {
        var theta0 = Tensor<double>.FromDoubles([1.0, -2.0, 0.5, 3.0], 4);
        var options = new GradientFlowOptions(RelativeTolerance: 1e-12, AbsoluteTolerance: 1e-14, Method: method, FixedStep: 1e-3);
        var result = GradientFlow.Integrate(Quadratic, [theta0], 2.0, options);
        for (int i = 0; i < 4; i++) Close.Assert(theta0[i] * Math.Exp(-2.0 * Rates[i]), result.Final[0][i], tolerance, 1e-12);
    }

    [Fact]
    public void Integrate_RungeKutta4_ErrorFallsAsFourthPowerOfStep()
    {
        var theta0 = Tensor<double>.FromDoubles([1.0, -2.0, 0.5, 3.0], 4);
        double Error(double step)
        {
            var r = GradientFlow.Integrate(Quadratic, [theta0], 1.0, new GradientFlowOptions(Method: GradientFlowMethod.RungeKutta4, FixedStep: step));
            return Math.Abs(r.Final[0][3] - 3.0 * Math.Exp(-7.0));
        }
        double ratio = Error(0.02) / Error(0.01);
        Assert.InRange(ratio, 14, 18); // 2⁴ = 16
    }

    [Fact]
    public void Integrate_OutputTimes_ObservedExactlyOnce()
    {
        var times = new List<double>();
        var outputs = new[] { 0.25, 0.5, 1.0, 1.7 };
        GradientFlow.Integrate(Quadratic, [Tensor<double>.Ones(4)], 1.7, null, p => times.Add(p.Time), outputs);
        Assert.Equal(new[] { 0.0 }.Concat(outputs), times);
    }

    [Fact]
    public void Integrate_LinearTwoLayer_ConservesEveryEntryOfImbalanceToTimeTen()
    {
        // Acceptance: every entry of UᵀU − VVᵀ drifts ≤ 1e-8 relative (to the size of the Gram terms) up to t = 10.
        var net = new TwoLayerNetwork(Activation.Identity, SquaredErrorLoss.HalfSum);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(71), 3, 4, 5, 6);
        var monitor = new ConservationMonitor(ConservedQuantity.Imbalance());
        var options = new GradientFlowOptions(RelativeTolerance: 1e-12, AbsoluteTolerance: 1e-14);
        var result = GradientFlow.Integrate(net.LossFunction(x, y), theta.AsList(), 10.0, options, p => monitor.Observe(p.Parameters, time: p.Time));
        Assert.True(result.FinalLoss < 0.5 * net.Loss(theta, x, y), "the flow should have trained the network");
        Assert.True(monitor.Summary.MaxRelativeChange <= 1e-8, $"max relative drift {monitor.Summary.MaxRelativeChange:E3}");
        Assert.True(monitor.Summary.Observations > 10);
    }

    [Fact]
    public void Integrate_ReluTwoLayer_ConservesDiagonalToTimeTen()
    {
        // Acceptance: diag(UᵀU − VVᵀ) drifts ≤ 1e-6 relative for ReLU. With whitened input (X = I, the setting of
        // Fig. 3) each pre-activation is a weight, which stops when it reaches the kink, so the flow crosses each kink
        // at most once and the error control steps across it (with a general X the flow can slide along a kink: see below).
        var net = new TwoLayerNetwork(Activation.Relu, SquaredErrorLoss.HalfSum);
        var random = new Random(72);
        var theta = TwoLayerParameters.Gaussian(random, 3, 6, 5, 1, 1 / Math.Sqrt(5));
        var x = Tensor<double>.Identity(5);
        var y = Gaussian.Matrix(random, 3, 5);
        var monitor = new ConservationMonitor(ConservedQuantity.HomogeneousDiagonal());
        var options = new GradientFlowOptions(RelativeTolerance: 1e-12, AbsoluteTolerance: 1e-14);
        GradientFlow.Integrate(net.LossFunction(x, y), theta.AsList(), 10.0, options, p => monitor.Observe(p.Parameters, time: p.Time));
        Assert.True(monitor.Summary.MaxRelativeChange <= 1e-6, $"max relative drift {monitor.Summary.MaxRelativeChange:E3}");
    }

    [Fact]
    public void Integrate_ReluSlidingAlongKink_FailsClearlyOrPushesThroughWithMinStep()
    {
        // A general batch X: this instance reaches, near t = 0.34, a kink along which the flow slides (the gradient
        // jumps there and points into the kink from both sides), so the error control cannot meet the tolerance.
        var net = new TwoLayerNetwork(Activation.Relu, SquaredErrorLoss.HalfSum);
        var random = new Random(72);
        var theta = TwoLayerParameters.Gaussian(random, 3, 6, 5, 1, 1 / Math.Sqrt(5));
        var x = Gaussian.Matrix(random, 5, 8);
        var y = Gaussian.Matrix(random, 3, 8);
        var e = Assert.Throws<InvalidOperationException>(() =>
            GradientFlow.Integrate(net.LossFunction(x, y), theta.AsList(), 1.0, new GradientFlowOptions(MaxSteps: 5_000)));
        Assert.Contains("sliding along a kink", e.Message);
        var forced = GradientFlow.Integrate(net.LossFunction(x, y), theta.AsList(), 1.0, new GradientFlowOptions(MinStep: 1e-3));
        Assert.True(forced.ForcedSteps > 0);
    }

    [Fact]
    public void Integrate_RadialTwoLayer_AngularMomentumHoldsAtEveryEvaluatedPoint()
    {
        var net = new TwoLayerNetwork(Activation.RadialInverseOnePlusNorm, SquaredErrorLoss.HalfSum);
        var (theta, x, y) = SymmetryFixtures.Problem(new Random(73), 3, 5, 4, 6);
        double worstCorrect = 0, bestPaper = double.PositiveInfinity;
        int points = 0;
        GradientFlow.Integrate(net.LossFunction(x, y), theta.AsList(), 10.0, new GradientFlowOptions(RelativeTolerance: 1e-10), p =>
        {
            var velocity = new TwoLayerParameters(TensorOps.Binary(BinaryOp.Multiply, p.Gradient[0], -1.0), TensorOps.Binary(BinaryOp.Multiply, p.Gradient[1], -1.0));
            var check = RadialAngularMomentum.Check(TwoLayerParameters.FromList(p.Parameters), velocity);
            worstCorrect = Math.Max(worstCorrect, check.CorrectRelative);
            bestPaper = Math.Min(bestPaper, check.PaperRelative);
            points++;
        });
        Assert.True(points > 10);
        Assert.True(worstCorrect <= 1e-8, $"A(U̇ᵀU) − A(VV̇ᵀ) up to {worstCorrect:E3}");
        Assert.True(bestPaper > 1e-4, $"eq. 30's form came as close as {bestPaper:E3}");
    }

    [Fact]
    public void Integrate_GradientOfWrongShape_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => GradientFlow.Integrate(_ => new LossGradient(0, [Tensor<double>.Zeros(3)]), [Tensor<double>.Zeros(4)], 1.0));
        Assert.Contains("gradient[0]", e.Message);
    }

    [Fact]
    public void Integrate_NonPositiveEndTime_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientFlow.Integrate(Quadratic, [Tensor<double>.Ones(4)], 0.0));
    }
}
